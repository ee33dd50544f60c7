//! SYN cookies (RFC 4987 §3.6): when the SYN queue is full, the listener
//! keeps nothing and encodes what it must remember in its own ISN. The
//! ACK that completes the handshake brings it back: ACK − 1 is the cookie.
//!
//! ```text
//! cookie = H1(4-tuple) + peer's ISN + (count << 24)
//!        + ((H2(4-tuple, count) + (MSS index << 20)) mod 2^24)
//! ```
//!
//! `count` is a minute counter (64 s); a cookie is good for two counts.
//! The 20 bits under the MSS index decode to zero only for the right ACK,
//! so an ACK slightly off (or forged without the key) fails the check. H1
//! and H2 are SipHash under the host's cookie key. The MSS is one of a few
//! table values. Window scale and SACK-permitted ride in the low six bits
//! of our SYN-ACK timestamp when the SYN offered timestamps, and come back
//! in the ACK's echo; without timestamps a cookie connection has neither,
//! as on Linux.

use crate::demux::Tuple;
use synack_tcp::isn::siphash24;
use synack_tcp::{Instant, SeqNum};

/// MSS values a cookie can carry: the largest not above the peer's is used.
pub const MSS_TABLE: [u16; 5] = [536, 1220, 1300, 1440, 1460];

/// A cookie older than this many counts is refused.
const MAX_AGE: u32 = 2;

/// The MSS index sits in the top 4 of the 24 data bits; the 20 below are
/// zero, a check that the ACK belongs to the handshake.
const IDX_SHIFT: u32 = 20;

/// Seconds per count.
const COUNT_SECS: u64 = 64;

/// The low bits of the SYN-ACK's TSval that carry options.
pub const TS_BITS: u32 = 0x3f;
/// Window scale 15 means "no window scale" (real shifts stop at 14).
const WS_NONE: u32 = 0xf;

fn tuple_bytes(t: &Tuple, extra: u32) -> ([u8; 40], usize) {
    let mut msg = [0u8; 40];
    let mut n = 0;
    for a in [t.local, t.remote] {
        match a.ip() {
            std::net::IpAddr::V4(ip) => {
                msg[n..n + 4].copy_from_slice(&ip.octets());
                n += 4;
            }
            std::net::IpAddr::V6(ip) => {
                msg[n..n + 16].copy_from_slice(&ip.octets());
                n += 16;
            }
        }
        msg[n..n + 2].copy_from_slice(&a.port().to_be_bytes());
        n += 2;
    }
    msg[n..n + 4].copy_from_slice(&extra.to_le_bytes());
    (msg, n + 4)
}

fn h1(key: &[u8; 16], t: &Tuple) -> u32 {
    let (m, n) = tuple_bytes(t, 0xffff_ffff);
    siphash24(key, &m[..n]) as u32
}

fn h2(key: &[u8; 16], t: &Tuple, count: u32) -> u32 {
    let (m, n) = tuple_bytes(t, count);
    siphash24(key, &m[..n]) as u32
}

fn count(now: Instant) -> u32 {
    (now.as_micros() / 1_000_000 / COUNT_SECS) as u32
}

/// The MSS table index for a peer that announced `mss`.
pub fn mss_index(mss: u16) -> u32 {
    MSS_TABLE.iter().rposition(|&m| m <= mss).unwrap_or(0) as u32
}

/// Our ISN for a SYN from `t` with ISN `peer_isn`.
pub fn make(key: &[u8; 16], t: &Tuple, peer_isn: SeqNum, now: Instant, mss_idx: u32) -> SeqNum {
    let c = count(now) & 0xff;
    let v = h1(key, t)
        .wrapping_add(peer_isn.0)
        .wrapping_add(c << 24)
        .wrapping_add(h2(key, t, c).wrapping_add(mss_idx << IDX_SHIFT) & 0x00ff_ffff);
    SeqNum(v)
}

/// Checks the cookie in an ACK: `ack` is SEG.ACK, `seq` SEG.SEQ. Returns
/// the MSS it carried.
pub fn check(key: &[u8; 16], t: &Tuple, seq: SeqNum, ack: SeqNum, now: Instant) -> Option<u16> {
    let cookie = (ack - 1).0;
    let peer_isn = (seq - 1).0;
    let v = cookie.wrapping_sub(h1(key, t)).wrapping_sub(peer_isn);
    let c = v >> 24;
    let now_c = count(now) & 0xff;
    if now_c.wrapping_sub(c) & 0xff > MAX_AGE {
        return None;
    }
    let data = v.wrapping_sub(h2(key, t, c)) & 0x00ff_ffff;
    // The low 20 bits must come back as zero: an ACK whose SEQ or ACK is
    // off by a little (not the handshake's) fails here.
    if data & ((1 << IDX_SHIFT) - 1) != 0 {
        return None;
    }
    MSS_TABLE.get((data >> IDX_SHIFT) as usize).copied()
}

/// The options a cookie keeps in the TSval's low bits.
pub fn ts_bits(wscale: Option<u8>, sack: bool) -> u32 {
    let ws = wscale.map_or(WS_NONE, |w| u32::from(w.min(14)));
    ws | (u32::from(sack) << 4)
}

/// The window scale and SACK-permitted an echoed TSval carries.
pub fn from_ts_bits(bits: u32) -> (Option<u8>, bool) {
    let ws = bits & 0xf;
    ((ws != WS_NONE).then_some(ws as u8), bits & 0x10 != 0)
}

/// The TSval of a cookie SYN-ACK: our clock less 64 ms (so the clock only
/// moves forward from the peer's point of view), low bits replaced.
pub fn tsval(clock: u32, bits: u32) -> u32 {
    (clock.wrapping_sub(TS_BITS + 1) & !TS_BITS) | (bits & TS_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple() -> Tuple {
        Tuple {
            local: "10.0.0.2:80".parse().unwrap(),
            remote: "10.0.0.9:40000".parse().unwrap(),
        }
    }

    #[test]
    fn a_cookie_comes_back_with_its_mss_and_ages_out() {
        let key = [9u8; 16];
        let t = tuple();
        let now = Instant::from_millis(1_000_000);
        let peer = SeqNum(123_456);
        for (i, &mss) in MSS_TABLE.iter().enumerate() {
            let iss = make(&key, &t, peer, now, i as u32);
            assert_eq!(check(&key, &t, peer + 1, iss + 1, now), Some(mss));
        }
        let iss = make(&key, &t, peer, now, 3);
        // Two minutes later still good; five not.
        let later = now + synack_tcp::Duration::from_secs(128);
        assert_eq!(check(&key, &t, peer + 1, iss + 1, later), Some(1440));
        let much_later = now + synack_tcp::Duration::from_secs(320);
        assert_eq!(check(&key, &t, peer + 1, iss + 1, much_later), None);
        // Another tuple, another ISN, a wrong ACK: refused.
        let other = Tuple {
            remote: "10.0.0.9:40001".parse().unwrap(),
            ..t
        };
        assert_eq!(check(&key, &other, peer + 1, iss + 1, now), None);
        assert_eq!(check(&key, &t, peer + 2, iss + 1, now), None);
        assert_eq!(check(&key, &t, peer + 1, iss + 2, now), None);
    }

    #[test]
    fn options_ride_in_the_timestamp() {
        assert_eq!(from_ts_bits(ts_bits(Some(7), true)), (Some(7), true));
        assert_eq!(from_ts_bits(ts_bits(None, false)), (None, false));
        let v = tsval(1000, ts_bits(Some(14), true));
        assert!(v < 1000 && v & TS_BITS == ts_bits(Some(14), true));
        assert_eq!(mss_index(1460), 4);
        assert_eq!(mss_index(1400), 2);
        assert_eq!(mss_index(100), 0);
    }
}
