//! Classic libpcap capture files.
//!
//! [`PcapWriter`] writes the original pcap format (magic `0xa1b2c3d4`,
//! microsecond timestamps, version 2.4, snaplen 65535) with link type
//! [`LINKTYPE_RAW`]: every record is a bare IPv4 or IPv6 packet, starting with
//! the version nibble. Wireshark and tcpdump open these files directly.
//! Timestamps are virtual [`Instant`]s, i.e. microseconds since the
//! simulation's epoch, so captures start near 1970-01-01.
//!
//! [`read_pcap`] is a small, strict reader for tests: it accepts the format
//! written here (either byte order, microsecond or nanosecond magic) and
//! reports malformed input as a [`PcapError`] instead of panicking.
//!
//! The writer issues two `write_all` calls per packet; wrap files in a
//! [`std::io::BufWriter`].

use std::fmt;
use std::io::{self, Write};

use synack_time::Instant;

/// Link type of raw IP packets (IPv4 or IPv6, told apart by the version
/// nibble).
pub const LINKTYPE_RAW: u32 = 101;

/// Largest number of bytes stored per packet; longer packets are truncated
/// (their original length is still recorded).
pub const SNAPLEN: u32 = 65535;

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const GLOBAL_HEADER_LEN: usize = 24;
const RECORD_HEADER_LEN: usize = 16;

/// Writes a pcap capture to `W`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    packets: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Write the global header and return the writer.
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut hdr = [0u8; GLOBAL_HEADER_LEN];
        hdr[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone (8..12) and sigfigs (12..16) stay zero.
        hdr[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        w.write_all(&hdr)?;
        Ok(PcapWriter { w, packets: 0 })
    }

    /// Append one packet captured at `ts`. Packets longer than [`SNAPLEN`]
    /// are truncated. Fails with `InvalidInput` if `ts` does not fit the
    /// format's 32-bit seconds field.
    pub fn write_packet(&mut self, ts: Instant, data: &[u8]) -> io::Result<()> {
        let us = ts.as_micros();
        let secs = u32::try_from(us / 1_000_000).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "timestamp too large for pcap")
        })?;
        let micros = (us % 1_000_000) as u32;
        let incl = data.len().min(SNAPLEN as usize);
        let orig = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let mut rec = [0u8; RECORD_HEADER_LEN];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&micros.to_le_bytes());
        rec[8..12].copy_from_slice(&(incl as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&orig.to_le_bytes());
        self.w.write_all(&rec)?;
        self.w.write_all(&data[..incl])?;
        self.packets += 1;
        Ok(())
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// Give back the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.w
    }

    /// Number of packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }
}

/// Why [`read_pcap`] rejected its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcapError {
    /// Shorter than the 24-byte global header.
    TooShort,
    /// Not a pcap magic number (the first four bytes, little-endian).
    BadMagic(u32),
    /// Major version other than 2.
    UnsupportedVersion { major: u16, minor: u16 },
    /// A record header or its data runs past the end of the input; `offset`
    /// is where the record starts.
    Truncated { offset: usize },
    /// A record's sub-second field is out of range, or its captured length
    /// exceeds its original length; `offset` is where the record starts.
    BadRecord { offset: usize },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::TooShort => write!(f, "pcap: shorter than the global header"),
            PcapError::BadMagic(m) => write!(f, "pcap: bad magic number {m:#010x}"),
            PcapError::UnsupportedVersion { major, minor } => {
                write!(f, "pcap: unsupported version {major}.{minor}")
            }
            PcapError::Truncated { offset } => {
                write!(f, "pcap: record at offset {offset} is truncated")
            }
            PcapError::BadRecord { offset } => {
                write!(f, "pcap: malformed record at offset {offset}")
            }
        }
    }
}

impl std::error::Error for PcapError {}

/// Parse a classic pcap file into `(timestamp, packet bytes)` pairs.
///
/// Nanosecond captures are rounded down to microseconds. The link type is
/// not checked.
pub fn read_pcap(bytes: &[u8]) -> Result<Vec<(Instant, Vec<u8>)>, PcapError> {
    let hdr = bytes.get(..GLOBAL_HEADER_LEN).ok_or(PcapError::TooShort)?;
    let magic_le = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let (big_endian, nanos) = match magic_le {
        MAGIC_MICROS => (false, false),
        MAGIC_NANOS => (false, true),
        m if m.swap_bytes() == MAGIC_MICROS => (true, false),
        m if m.swap_bytes() == MAGIC_NANOS => (true, true),
        m => return Err(PcapError::BadMagic(m)),
    };
    let u16_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1]];
        if big_endian {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    };
    let u32_at = |b: &[u8], i: usize| {
        let v = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if big_endian {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    };
    let major = u16_at(hdr, 4);
    let minor = u16_at(hdr, 6);
    if major != 2 {
        return Err(PcapError::UnsupportedVersion { major, minor });
    }
    let frac_limit: u32 = if nanos { 1_000_000_000 } else { 1_000_000 };

    let mut out = Vec::new();
    let mut offset = GLOBAL_HEADER_LEN;
    while offset < bytes.len() {
        let rec = bytes
            .get(offset..offset + RECORD_HEADER_LEN)
            .ok_or(PcapError::Truncated { offset })?;
        let secs = u32_at(rec, 0);
        let frac = u32_at(rec, 4);
        let incl = u32_at(rec, 8) as usize;
        let orig = u32_at(rec, 12) as usize;
        if frac >= frac_limit || incl > orig {
            return Err(PcapError::BadRecord { offset });
        }
        let start = offset + RECORD_HEADER_LEN;
        let data = start
            .checked_add(incl)
            .and_then(|end| bytes.get(start..end))
            .ok_or(PcapError::Truncated { offset })?;
        let sub_us = if nanos { frac / 1_000 } else { frac };
        let us = u64::from(secs) * 1_000_000 + u64::from(sub_us);
        out.push((Instant::from_micros(us), data.to_vec()));
        offset = start + incl;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn ipv4ish(len: usize, fill: u8) -> Vec<u8> {
        let mut p = vec![fill; len];
        if let Some(b) = p.first_mut() {
            *b = 0x45;
        }
        p
    }

    #[test]
    fn header_layout() {
        let w = PcapWriter::new(Vec::new()).unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24);
        assert_eq!(&bytes[0..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
        assert_eq!(&bytes[4..8], &[2, 0, 4, 0]);
        assert_eq!(&bytes[16..20], &65535u32.to_le_bytes());
        assert_eq!(&bytes[20..24], &101u32.to_le_bytes());
        assert_eq!(read_pcap(&bytes), Ok(vec![]));
    }

    #[test]
    fn round_trip() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let pkts = vec![
            (Instant::ZERO, ipv4ish(20, 1)),
            (Instant::from_micros(1_234_567), ipv4ish(1500, 2)),
            (Instant::from_millis(3_600_000), vec![0x60; 40]),
            (Instant::from_micros(5), Vec::new()),
        ];
        for (ts, p) in &pkts {
            w.write_packet(*ts, p).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(w.packets(), 4);
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24 + 4 * 16 + 20 + 1500 + 40);
        assert_eq!(read_pcap(&bytes).unwrap(), pkts);
    }

    #[test]
    fn oversized_packets_truncated_to_snaplen() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_packet(Instant::ZERO, &ipv4ish(70_000, 3)).unwrap();
        let bytes = w.into_inner();
        let back = read_pcap(&bytes).unwrap();
        assert_eq!(back[0].1.len(), 65535);
        assert_eq!(&bytes[24 + 12..24 + 16], &70_000u32.to_le_bytes());
    }

    #[test]
    fn timestamp_overflow_is_an_error() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let err = w
            .write_packet(Instant::from_micros(u64::MAX), &[0x45])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(w.packets(), 0);
    }

    #[test]
    fn big_endian_nanosecond_files() {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC_NANOS.to_be_bytes());
        b.extend_from_slice(&2u16.to_be_bytes());
        b.extend_from_slice(&4u16.to_be_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_be_bytes());
        b.extend_from_slice(&101u32.to_be_bytes());
        b.extend_from_slice(&7u32.to_be_bytes());
        b.extend_from_slice(&123_456_789u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&2u32.to_be_bytes());
        b.extend_from_slice(&[0x45, 0x00]);
        let back = read_pcap(&b).unwrap();
        assert_eq!(back, vec![(Instant::from_micros(7_123_456), vec![0x45, 0])]);
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(read_pcap(&[]), Err(PcapError::TooShort));
        assert_eq!(read_pcap(&[0xd4, 0xc3, 0xb2]), Err(PcapError::TooShort));
        assert!(matches!(
            read_pcap(b"this is definitely not a pcap file"),
            Err(PcapError::BadMagic(_))
        ));

        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_packet(Instant::from_millis(1), &ipv4ish(100, 9))
            .unwrap();
        let good = w.into_inner();
        // Every truncation of a valid file is rejected, never a panic.
        for cut in 0..good.len() {
            assert!(read_pcap(&good[..cut]).is_err() || cut == 24, "cut {cut}");
        }
        // Huge captured length.
        let mut bad = good.clone();
        bad[24 + 8..24 + 16].copy_from_slice(&[0xff; 8]);
        assert_eq!(read_pcap(&bad), Err(PcapError::Truncated { offset: 24 }));
        // Sub-second field out of range.
        let mut bad = good.clone();
        bad[24 + 4..24 + 8].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(read_pcap(&bad), Err(PcapError::BadRecord { offset: 24 }));
        // Wrong version.
        let mut bad = good.clone();
        bad[4] = 9;
        assert!(matches!(
            read_pcap(&bad),
            Err(PcapError::UnsupportedVersion { major: 9, .. })
        ));

        // Random bytes, with and without a valid global header.
        let mut rng = Rng::new(11);
        for i in 0..2000 {
            let mut buf = vec![0u8; rng.below(200) as usize];
            rng.fill(&mut buf);
            if i % 2 == 0 && buf.len() >= 24 {
                buf[..24].copy_from_slice(&good[..24]);
            }
            let _ = read_pcap(&buf);
        }
        assert!(PcapError::TooShort.to_string().contains("pcap"));
    }
}
