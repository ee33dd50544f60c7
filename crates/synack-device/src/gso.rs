//! Gathering a burst of one connection's TCP segments into one packet that
//! the kernel cuts up again: generic segmentation offload (GSO) for what
//! synack sends through a TUN device.
//!
//! The stack writes MSS-sized segments one after another. Consecutive ones
//! of one connection that differ only in their sequence numbers and
//! payloads (same addresses, ports, ACK, window and options; every one but
//! the last full-sized and plain ACK) are exactly what the kernel's TCP
//! segmentation would make of one large segment with the first one's
//! header. So [`Gather`] appends each such segment's payload to the
//! first, and the device writes the whole with a `virtio_net_hdr` asking
//! for segmentation (`VIRTIO_NET_HDR_GSO_TCPV4`/`TCPV6`, `gso_size` the
//! full segments' payload) and a partial checksum
//! (`VIRTIO_NET_HDR_F_NEEDS_CSUM`). The kernel's segmentation gives every
//! segment the first one's header with its own sequence number, clears
//! PSH and FIN on all but the last, and finishes each checksum: the
//! segments synack wrote, byte for byte. A kernel delivering it locally
//! takes it whole, as it does a packet its own receive offload merged.
//!
//! Only IPv4 without options and IPv6 without extension headers are
//! gathered; anything else goes out as it is.

use synack_wire::checksum;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`.
const NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV6`.
const GSO_TCPV6: u8 = 4;

/// TCP flag bits.
const FIN: u8 = 0x01;
const PSH: u8 = 0x08;
const ACK: u8 = 0x10;

/// The largest packet gathered (the IPv4 total length and the IPv6 payload
/// length are 16-bit fields).
pub const MAX_GATHERED: usize = 65535;

/// Where a TCP segment's parts sit in an IP packet.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
struct Layout {
    v6: bool,
    /// IP header length (20 or 40).
    ip: usize,
    /// IP and TCP headers together.
    headers: usize,
}

/// The layout of `p` if it is a TCP segment that may be gathered: IPv4
/// with no options and not a fragment, or IPv6 with TCP as the next
/// header; lengths consistent.
fn layout(p: &[u8]) -> Option<Layout> {
    let (v6, ip) = match p.first()? >> 4 {
        4 if p.len() >= 20 && p[0] & 0x0f == 5 && p[9] == 6 => {
            let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
            let fragment = u16::from_be_bytes([p[6], p[7]]) & 0x3fff != 0;
            if total != p.len() || fragment {
                return None;
            }
            (false, 20)
        }
        6 if p.len() >= 40 && p[6] == 6 => {
            let payload = usize::from(u16::from_be_bytes([p[4], p[5]]));
            if payload + 40 != p.len() {
                return None;
            }
            (true, 40)
        }
        _ => return None,
    };
    let offset = usize::from(*p.get(ip + 12)? >> 4) * 4;
    if offset < 20 || ip + offset > p.len() {
        return None;
    }
    Some(Layout {
        v6,
        ip,
        headers: ip + offset,
    })
}

/// The source and destination addresses of the IP packet `p`.
fn addresses(p: &[u8], v6: bool) -> (std::net::IpAddr, std::net::IpAddr) {
    if v6 {
        let a = |o: usize| -> [u8; 16] { p[o..o + 16].try_into().unwrap_or([0; 16]) };
        (a(8).into(), a(24).into())
    } else {
        let a = |o: usize| -> [u8; 4] { p[o..o + 4].try_into().unwrap_or([0; 4]) };
        (a(12).into(), a(16).into())
    }
}

/// The segments gathered so far into one packet: the first one whole, the
/// payloads of the others after it.
#[derive(Clone, Debug)]
pub struct Gather {
    layout: Layout,
    /// Bytes of the packet so far.
    len: usize,
    /// Payload bytes of the first segment: every one but the last has as
    /// many (`gso_size`).
    size: usize,
    segments: usize,
    /// Another segment may follow: the last one was full-sized and a
    /// plain ACK.
    open: bool,
}

impl Gather {
    /// Starts a packet with the segment `p`; `None` if `p` is not one to
    /// gather (not TCP, no payload, or flags other than ACK and PSH/FIN).
    pub fn start(p: &[u8]) -> Option<Gather> {
        let layout = layout(p)?;
        let flags = p[layout.ip + 13];
        let size = p.len() - layout.headers;
        if flags & !(PSH | FIN) != ACK || size == 0 || p.len() > MAX_GATHERED {
            return None;
        }
        Some(Gather {
            layout,
            len: p.len(),
            size,
            segments: 1,
            open: flags == ACK,
        })
    }

    /// Bytes of the packet so far (at the start of the buffer).
    pub fn bytes(&self) -> usize {
        self.len
    }

    /// Segments gathered.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// Appends the segment `next`, which the stack wrote at
    /// `buf[self.bytes()..]`, to the packet at the start of `buf` if it
    /// continues it; returns whether it did. Its payload then follows the
    /// others, and its headers are gone.
    pub fn join(&mut self, buf: &mut [u8], next_len: usize) -> bool {
        let (head, rest) = buf.split_at_mut(self.len);
        let Some(next) = rest.get(..next_len) else {
            return false;
        };
        if !self.open || layout(next) != Some(self.layout) {
            return false;
        }
        let l = self.layout;
        let payload = next_len - l.headers;
        if payload == 0 || payload > self.size || self.len + payload > MAX_GATHERED {
            return false;
        }
        // The IP headers agree but for their lengths, checksum and (IPv4)
        // identification; the TCP headers but for the sequence number,
        // the checksum and PSH/FIN on the segment that ends the packet.
        let same_ip = if l.v6 {
            head[..4] == next[..4] && head[6..40] == next[6..40]
        } else {
            head[1] == next[1] && head[6..10] == next[6..10] && head[12..20] == next[12..20]
        };
        let t = l.ip;
        let flags = next[t + 13];
        let seq = |p: &[u8]| u32::from_be_bytes([p[t + 4], p[t + 5], p[t + 6], p[t + 7]]);
        let expected = seq(head).wrapping_add((self.len - l.headers) as u32);
        if !same_ip
            || head[t..t + 4] != next[t..t + 4]
            || seq(next) != expected
            || head[t + 8..t + 13] != next[t + 8..t + 13]
            || flags & !(PSH | FIN) != ACK
            || head[t + 14..t + 16] != next[t + 14..t + 16]
            || head[t + 18..l.headers] != next[t + 18..l.headers]
        {
            return false;
        }
        rest.copy_within(l.headers..next_len, 0);
        self.len += payload;
        self.segments += 1;
        // The packet's header carries the last segment's PSH and FIN; the
        // kernel keeps them on the last segment only.
        head[t + 13] |= flags & (PSH | FIN);
        self.open = payload == self.size && flags == ACK;
        true
    }

    /// Cuts the gathered packet at the start of `buf` back into the
    /// segments it was gathered from, each written whole (lengths, sequence
    /// number, flags and both checksums) into `out` and handed to `each`:
    /// what the kernel's segmentation would make of it, done here. Returns
    /// the first error `each` returns.
    pub fn cut<E>(
        &self,
        buf: &[u8],
        out: &mut [u8],
        mut each: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let l = self.layout;
        let t = l.ip;
        let head = &buf[..l.headers];
        let payload = &buf[l.headers..self.len];
        let seq0 = u32::from_be_bytes([head[t + 4], head[t + 5], head[t + 6], head[t + 7]]);
        let n = payload.chunks(self.size).len();
        for (i, chunk) in payload.chunks(self.size).enumerate() {
            let len = l.headers + chunk.len();
            let s = &mut out[..len];
            s[..l.headers].copy_from_slice(head);
            s[l.headers..].copy_from_slice(chunk);
            if l.v6 {
                s[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            } else {
                s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                s[10..12].fill(0);
                let sum = checksum::checksum(&s[..20]);
                s[10..12].copy_from_slice(&sum.to_be_bytes());
            }
            let seq = seq0.wrapping_add((i * self.size) as u32);
            s[t + 4..t + 8].copy_from_slice(&seq.to_be_bytes());
            if i + 1 < n {
                s[t + 13] &= !(PSH | FIN);
            }
            let (src, dst) = addresses(s, l.v6);
            let pseudo = checksum::pseudo_header(src, dst, 6, (len - t) as u32);
            s[t + 16..t + 18].fill(0);
            let sum = checksum::finish(pseudo + checksum::sum(&s[t..]));
            s[t + 16..t + 18].copy_from_slice(&sum.to_be_bytes());
            each(s)?;
        }
        Ok(())
    }

    /// Makes the packet at the start of `buf` whole: lengths and the IPv4
    /// header checksum for what it now holds, and, with more than one
    /// segment, the TCP checksum field holding only the pseudo-header's
    /// sum (the kernel sums the rest for each segment it cuts). Returns the
    /// `virtio_net_hdr` to write before it.
    pub fn finish(&self, buf: &mut [u8]) -> [u8; 10] {
        let l = self.layout;
        let p = &mut buf[..self.len];
        if self.segments == 1 {
            // As the stack wrote it: the checksum is whole.
            return [0; 10];
        }
        let tcp_len = self.len - l.ip;
        if l.v6 {
            p[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
        } else {
            p[2..4].copy_from_slice(&(self.len as u16).to_be_bytes());
            p[10..12].fill(0);
            let sum = checksum::checksum(&p[..20]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        let (src, dst) = addresses(p, l.v6);
        let pseudo = checksum::pseudo_header(src, dst, 6, tcp_len as u32);
        p[l.ip + 16..l.ip + 18].copy_from_slice(&checksum::fold(pseudo).to_be_bytes());
        let mut hdr = [0u8; 10];
        hdr[0] = NEEDS_CSUM;
        hdr[1] = if l.v6 { GSO_TCPV6 } else { GSO_TCPV4 };
        hdr[2..4].copy_from_slice(&(l.headers as u16).to_ne_bytes());
        hdr[4..6].copy_from_slice(&(self.size as u16).to_ne_bytes());
        hdr[6..8].copy_from_slice(&(l.ip as u16).to_ne_bytes());
        hdr[8..10].copy_from_slice(&16u16.to_ne_bytes());
        hdr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use synack_wire::{IpRepr, TcpFlags, TcpOptions, TcpRepr};

    const A4: [u8; 4] = [10, 77, 0, 2];
    const B4: [u8; 4] = [10, 77, 0, 1];

    /// A TCP segment as the stack writes it, IPv4 or IPv6, with a
    /// timestamp option and both checksums.
    fn segment(v6: bool, seq: u32, flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
        let (src, dst): (IpAddr, IpAddr) = if v6 {
            (
                "2001:db8::2".parse().unwrap(),
                "2001:db8::1".parse().unwrap(),
            )
        } else {
            (IpAddr::from(A4), IpAddr::from(B4))
        };
        let mut options = TcpOptions::default();
        options.timestamps = Some((1000, 2000));
        let tcp = TcpRepr {
            src_port: 40000,
            dst_port: 9000,
            seq,
            ack: 77,
            flags,
            window: 500,
            urgent: 0,
            options,
            payload,
        };
        let ip_len = if v6 { 40 } else { 20 };
        let len = ip_len + tcp.buffer_len();
        let mut p = vec![0u8; len];
        if v6 {
            p[0] = 0x60;
            p[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            p[6] = 6;
            p[7] = 64;
            p[8..24].copy_from_slice(
                &"2001:db8::2"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
            );
            p[24..40].copy_from_slice(
                &"2001:db8::1"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
            );
        } else {
            p[0] = 0x45;
            p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            p[6] = 0x40;
            p[8] = 64;
            p[9] = 6;
            p[12..16].copy_from_slice(&A4);
            p[16..20].copy_from_slice(&B4);
            let sum = checksum::checksum(&p[..20]);
            p[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        tcp.emit(&mut p[ip_len..], src, dst);
        p
    }

    /// What the kernel's segmentation makes of a gathered packet: the
    /// header for each `size` bytes of payload, with its own sequence
    /// number, lengths and checksums, PSH and FIN on the last only.
    fn cut(p: &[u8], hdr: [u8; 10]) -> Vec<Vec<u8>> {
        let headers = usize::from(u16::from_ne_bytes([hdr[2], hdr[3]]));
        let size = usize::from(u16::from_ne_bytes([hdr[4], hdr[5]]));
        let ip = usize::from(u16::from_ne_bytes([hdr[6], hdr[7]]));
        let v6 = p[0] >> 4 == 6;
        let payload = &p[headers..];
        let seq0 = u32::from_be_bytes(p[ip + 4..ip + 8].try_into().unwrap());
        let chunks: Vec<&[u8]> = payload.chunks(size).collect();
        let n = chunks.len();
        chunks
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let mut s = p[..headers].to_vec();
                s.extend_from_slice(chunk);
                let len = s.len();
                if v6 {
                    s[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
                } else {
                    s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                    s[10..12].fill(0);
                    let sum = checksum::checksum(&s[..20]);
                    s[10..12].copy_from_slice(&sum.to_be_bytes());
                }
                let seq = seq0.wrapping_add((i * size) as u32);
                s[ip + 4..ip + 8].copy_from_slice(&seq.to_be_bytes());
                if i + 1 < n {
                    s[ip + 13] &= !(PSH | FIN);
                }
                // Finish the checksum: sum over the segment with the field
                // holding this segment's pseudo-header sum.
                let (ipr, _) = IpRepr::parse(&s).unwrap();
                let pseudo = checksum::pseudo_header(ipr.src(), ipr.dst(), 6, (len - ip) as u32);
                s[ip + 16..ip + 18].fill(0);
                let sum = checksum::finish(pseudo + checksum::sum(&s[ip..]));
                s[ip + 16..ip + 18].copy_from_slice(&sum.to_be_bytes());
                s
            })
            .collect()
    }

    /// Gathers `segments` the way the device does: each written after the
    /// packet so far; returns the packets it would write, with headers.
    fn gather(segments: &[Vec<u8>]) -> Vec<(Vec<u8>, [u8; 10])> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70_000];
        let mut g: Option<Gather> = None;
        for s in segments {
            let at = g.as_ref().map_or(0, Gather::bytes);
            buf[at..at + s.len()].copy_from_slice(s);
            if let Some(gg) = g.as_mut() {
                if gg.join(&mut buf, s.len()) {
                    continue;
                }
                let hdr = gg.finish(&mut buf);
                out.push((buf[..gg.bytes()].to_vec(), hdr));
                buf.copy_within(at..at + s.len(), 0);
            }
            g = Gather::start(&buf[..s.len()]);
            if g.is_none() {
                out.push((buf[..s.len()].to_vec(), [0; 10]));
            }
        }
        if let Some(gg) = g {
            let hdr = gg.finish(&mut buf);
            out.push((buf[..gg.bytes()].to_vec(), hdr));
        }
        out
    }

    /// Gathers `segments` as the device does, but cuts each gathering back
    /// with [`Gather::cut`] instead of finishing it.
    fn gather_and_cut(segments: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70_000];
        let mut scratch = vec![0u8; 2000];
        let mut g: Option<Gather> = None;
        let mut emit = |g: &Gather, buf: &[u8], out: &mut Vec<Vec<u8>>| {
            g.cut(buf, &mut scratch, |s| {
                out.push(s.to_vec());
                Ok::<(), ()>(())
            })
            .unwrap();
        };
        for s in segments {
            let at = g.as_ref().map_or(0, Gather::bytes);
            buf[at..at + s.len()].copy_from_slice(s);
            if let Some(gg) = g.as_mut() {
                if gg.join(&mut buf, s.len()) {
                    continue;
                }
                emit(gg, &buf, &mut out);
                buf.copy_within(at..at + s.len(), 0);
            }
            g = Gather::start(&buf[..s.len()]);
            if g.is_none() {
                out.push(buf[..s.len()].to_vec());
            }
        }
        if let Some(gg) = g {
            emit(&gg, &buf, &mut out);
        }
        out
    }

    #[test]
    fn a_gathering_cut_here_gives_back_the_segments() {
        for v6 in [false, true] {
            let mut segs = Vec::new();
            let mut seq = u32::MAX - 3000;
            for i in 0..7 {
                let (flags, n) = match i {
                    3 => (TcpFlags::ACK | TcpFlags::PSH, 1448),
                    6 => (TcpFlags::ACK | TcpFlags::FIN, 99),
                    _ => (TcpFlags::ACK, 1448),
                };
                segs.push(segment(v6, seq, flags, &payload(i, n)));
                seq = seq.wrapping_add(n as u32);
            }
            assert_eq!(gather_and_cut(&segs), segs, "v6 {v6}");
        }
    }

    fn payload(i: usize, n: usize) -> Vec<u8> {
        (0..n).map(|k| (i * 31 + k * 7) as u8).collect()
    }

    #[test]
    fn a_burst_becomes_one_packet_that_cuts_back_into_the_same_segments() {
        for v6 in [false, true] {
            let mut segs = Vec::new();
            let mut seq = 1000u32;
            for i in 0..10 {
                let (flags, n) = if i == 9 {
                    (TcpFlags::ACK | TcpFlags::PSH, 700)
                } else {
                    (TcpFlags::ACK, 1448)
                };
                segs.push(segment(v6, seq, flags, &payload(i, n)));
                seq = seq.wrapping_add(n as u32);
            }
            let out = gather(&segs);
            assert_eq!(out.len(), 1, "v6 {v6}");
            let (p, hdr) = &out[0];
            assert_eq!(hdr[0], NEEDS_CSUM);
            assert_eq!(hdr[1], if v6 { GSO_TCPV6 } else { GSO_TCPV4 });
            assert!(IpRepr::parse(p).is_ok(), "lengths and IPv4 checksum hold");
            assert_eq!(cut(p, *hdr), segs, "v6 {v6}");
        }
    }

    #[test]
    fn only_what_continues_the_packet_joins_it() {
        let s = |seq, flags, n| segment(false, seq, flags, &payload(seq as usize, n));
        let ack = TcpFlags::ACK;
        // A gap in sequence, a short segment, then one after it, a PSH in
        // the middle, a SYN, an empty ACK: each ends a packet.
        let segs = vec![
            s(0, ack, 1000),
            s(1000, ack, 1000),
            s(2500, ack, 1000),
            s(3500, ack, 400),
            s(3900, ack, 1000),
            s(4900, ack | TcpFlags::PSH, 1000),
            s(5900, ack, 1000),
            s(6900, TcpFlags::SYN | ack, 0),
            s(6901, ack, 0),
        ];
        let out = gather(&segs);
        let counts: Vec<usize> = out
            .iter()
            .map(|(p, h)| if h[0] == 0 { 1 } else { cut(p, *h).len() })
            .collect();
        assert_eq!(counts, [2, 2, 2, 1, 1, 1]);
        let again: Vec<Vec<u8>> = out
            .iter()
            .flat_map(|(p, h)| {
                if h[0] == 0 {
                    vec![p.clone()]
                } else {
                    cut(p, *h)
                }
            })
            .collect();
        assert_eq!(again, segs);
        // A different window or ACK does not join either.
        let mut other = s(1000, ack, 1000);
        other[20 + 14] ^= 1;
        let mut buf = vec![0u8; 10_000];
        let first = s(0, ack, 1000);
        buf[..first.len()].copy_from_slice(&first);
        let mut g = Gather::start(&buf[..first.len()]).unwrap();
        buf[first.len()..first.len() + other.len()].copy_from_slice(&other);
        assert!(!g.join(&mut buf, other.len()));
        assert_eq!(g.segments(), 1);
    }

    #[test]
    fn a_packet_never_passes_64_kib() {
        let mut segs = Vec::new();
        for i in 0..60u32 {
            segs.push(segment(
                false,
                i * 1448,
                TcpFlags::ACK,
                &payload(i as usize, 1448),
            ));
        }
        let out = gather(&segs);
        assert!(out.iter().all(|(p, _)| p.len() <= MAX_GATHERED));
        assert_eq!(out.len(), 2);
        let again: Vec<Vec<u8>> = out.iter().flat_map(|(p, h)| cut(p, *h)).collect();
        assert_eq!(again, segs);
    }
}
