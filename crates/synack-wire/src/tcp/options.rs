//! TCP options (RFC 9293 §3.1-3.2, RFC 7323, RFC 2018): parsing and emission.

use core::fmt;

use crate::{be16, be32, put16, put32};

/// Option kinds (RFC 9293 §3.2 and the IANA registry).
mod kind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// Maximum option space: data offset 15 words minus the 20-byte header.
pub const MAX_OPTIONS_LEN: usize = 40;

/// Maximum number of SACK blocks an option can carry (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// The order and padding used when emitting options. Both are legal (RFC
/// 9293 §3.1: options may begin on any octet and are padded with zeros to
/// the data offset); RFC 7323 Appendix A's aligned layouts are guidance.
/// Data segments (timestamps, SACK blocks) come out the same in both; the
/// layouts differ on SYNs and SYN-ACKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptionLayout {
    /// Linux's `tcp_options_write`: `MSS`, `SACKOK TS` (or `NOP NOP TS` /
    /// `NOP NOP SACKOK`), `NOP WS`, `NOP NOP SACK`; every part 32-bit
    /// aligned, so no trailing padding.
    #[default]
    Linux,
    /// FreeBSD's `tcp_addoptions`: kinds in the order `MSS`, `WS`, `SACKOK`,
    /// `TS`, `SACK`, each preceded by just enough `NOP`s to align it (WS at
    /// an odd offset, SACKOK even, TS and SACK at 2 mod 4), then `EOL`s up
    /// to a multiple of 4: e.g. `MSS NOP WS SACKOK TS` or `MSS SACKOK EOL
    /// EOL`.
    FreeBsd,
}

/// A SACK block [left, right) in raw u32 sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlock {
    /// First sequence number of the block.
    pub left: u32,
    /// Sequence number just past the block.
    pub right: u32,
}

/// The TCP options this stack understands.
///
/// Unknown options are skipped on parse and never emitted. `layout` only
/// steers emission; parsing always yields the default. Invariant: the
/// SACK block slots past `sack_len` are always `SackBlock::default()`, so the
/// derived equality compares exactly the visible blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    /// Maximum segment size (kind 2, RFC 9293 §3.7.1).
    pub mss: Option<u16>,
    /// Window scale shift count as sent (kind 3, RFC 7323 §2). Parsing keeps
    /// the raw value; the engine clamps it to 14.
    pub window_scale: Option<u8>,
    /// SACK-permitted (kind 4, RFC 2018 §2).
    pub sack_permitted: bool,
    /// Timestamps (TSval, TSecr) (kind 8, RFC 7323 §3).
    pub timestamps: Option<(u32, u32)>,
    /// Parsing only: options skipped because they were malformed (never emitted).
    pub malformed: u8,
    /// Parsing only: options of kinds this stack does not know, skipped (never emitted).
    pub unknown: u8,
    /// Emission only: the order and padding to write the options in.
    pub layout: OptionLayout,
    sack_len: u8,
    sack_blocks: [SackBlock; MAX_SACK_BLOCKS],
}

impl TcpOptions {
    /// No options yet, to be emitted in `layout`.
    #[inline]
    pub fn with_layout(layout: OptionLayout) -> TcpOptions {
        TcpOptions {
            layout,
            ..TcpOptions::default()
        }
    }

    /// Timestamps (if any) and nothing else, to be emitted in `layout`:
    /// what most segments of a connection carry.
    #[inline]
    pub fn with_timestamps(layout: OptionLayout, timestamps: Option<(u32, u32)>) -> TcpOptions {
        TcpOptions {
            layout,
            timestamps,
            ..TcpOptions::default()
        }
    }

    /// The SACK blocks (kind 5, RFC 2018 §3), in the order given.
    pub fn sack_blocks(&self) -> &[SackBlock] {
        let len = usize::from(self.sack_len).min(MAX_SACK_BLOCKS);
        &self.sack_blocks[..len]
    }

    /// Append a SACK block; returns `false` (and does nothing) if four are
    /// already present.
    pub fn push_sack_block(&mut self, block: SackBlock) -> bool {
        let len = usize::from(self.sack_len);
        match self.sack_blocks.get_mut(len) {
            Some(slot) => {
                *slot = block;
                self.sack_len += 1;
                true
            }
            None => false,
        }
    }

    /// Remove all SACK blocks.
    pub fn clear_sack_blocks(&mut self) {
        self.sack_len = 0;
        self.sack_blocks = [SackBlock::default(); MAX_SACK_BLOCKS];
    }

    /// Bytes taken by everything except SACK blocks; always a multiple of 4
    /// and at most 20.
    fn base_len(&self) -> usize {
        let mut len = 0;
        if self.mss.is_some() {
            len += 4; // MSS(4)
        }
        if self.window_scale.is_some() {
            len += 4; // NOP + WS(3)
        }
        len += match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) => 12,  // SACKOK(2) + TS(10)
            (false, true) => 12, // NOP NOP TS(10)
            (true, false) => 4,  // NOP NOP SACKOK(2)
            (false, false) => 0,
        };
        len
    }

    /// Number of SACK blocks that emission keeps (the first ones): as many
    /// as fit in the 40-byte option space after the other options.
    pub fn emitted_sack_blocks(&self) -> usize {
        match self.layout {
            OptionLayout::Linux => {
                // NOP NOP + kind + len take 4 bytes, then 8 per block.
                let room = (MAX_OPTIONS_LEN - self.base_len() - 4) / 8;
                self.sack_blocks().len().min(room)
            }
            OptionLayout::FreeBsd => self.freebsd_plan().1,
        }
    }

    /// A copy with the SACK blocks that would not fit dropped: exactly what
    /// parsing the emitted options yields.
    pub fn truncated_to_fit(&self) -> TcpOptions {
        let mut out = *self;
        let keep = self.emitted_sack_blocks();
        for slot in &mut out.sack_blocks[keep..] {
            *slot = SackBlock::default();
        }
        out.sack_len = keep as u8;
        // The parse-only counters are never emitted, and parsing does not
        // recover the layout.
        out.malformed = 0;
        out.unknown = 0;
        out.layout = OptionLayout::default();
        out
    }

    /// Bytes the options take when emitted, a multiple of 4 and at most 40.
    /// SACK blocks that do not fit are not counted (e.g. with timestamps
    /// only 3 fit).
    #[inline]
    pub fn encoded_len(&self) -> usize {
        if self.only_timestamps() {
            return 12;
        }
        match self.layout {
            OptionLayout::Linux => {
                let blocks = self.emitted_sack_blocks();
                let sack = if blocks > 0 { 4 + 8 * blocks } else { 0 };
                self.base_len() + sack
            }
            OptionLayout::FreeBsd => self.freebsd_plan().0,
        }
    }

    /// Timestamps and nothing else: what most data segments carry, and
    /// the same 12 bytes (NOP NOP TS) in both layouts.
    #[inline]
    fn only_timestamps(&self) -> bool {
        self.timestamps.is_some()
            && self.sack_len == 0
            && self.mss.is_none()
            && self.window_scale.is_none()
            && !self.sack_permitted
    }

    /// FreeBSD's `tcp_addoptions` walk without writing: the emitted length
    /// and the number of SACK blocks kept. Mirrors `emit_freebsd`.
    fn freebsd_plan(&self) -> (usize, usize) {
        let mut at = 0;
        if self.mss.is_some() {
            at += 4;
        }
        if self.window_scale.is_some() {
            at = align(at, 2, 1) + 3;
        }
        if self.sack_permitted {
            at = align(at, 2, 0) + 2;
        }
        if self.timestamps.is_some() {
            at = align(at, 4, 2) + 10;
        }
        let mut blocks = 0;
        if !self.sack_blocks().is_empty() {
            let start = align(at, 4, 2);
            // Kind + length, then 8 per block; none if not even one fits.
            if start + 2 + 8 <= MAX_OPTIONS_LEN {
                blocks = self
                    .sack_blocks()
                    .len()
                    .min((MAX_OPTIONS_LEN - start - 2) / 8);
                at = start + 2 + 8 * blocks;
            }
        }
        (align(at, 4, 0), blocks)
    }

    /// Write the options into `buf[..encoded_len()]` in `self.layout`'s
    /// order (see [`OptionLayout`]), returning that length.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than `encoded_len()`.
    #[inline]
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        if let (true, Some((tsval, tsecr))) = (self.only_timestamps(), self.timestamps) {
            // A data segment's usual options: NOP NOP TS in both layouts,
            // written as one 12-byte array.
            let Some(out) = buf.first_chunk_mut::<12>() else {
                panic!("TcpOptions::emit: buffer shorter than the options");
            };
            let [v0, v1, v2, v3] = tsval.to_be_bytes();
            let [e0, e1, e2, e3] = tsecr.to_be_bytes();
            *out = [
                kind::NOP,
                kind::NOP,
                kind::TIMESTAMPS,
                10,
                v0,
                v1,
                v2,
                v3,
                e0,
                e1,
                e2,
                e3,
            ];
            return out.len();
        }
        match self.layout {
            OptionLayout::Linux => self.emit_linux(buf),
            OptionLayout::FreeBsd => self.emit_freebsd(buf),
        }
    }

    /// FreeBSD's `tcp_addoptions` order: each option NOP-aligned as it
    /// goes, EOL padding at the end.
    fn emit_freebsd(&self, buf: &mut [u8]) -> usize {
        let (len, blocks) = self.freebsd_plan();
        let out = &mut buf[..len];
        let mut at = 0;
        if let Some(mss) = self.mss {
            put_mss(out, &mut at, mss);
        }
        if let Some(shift) = self.window_scale {
            pad_nops(out, &mut at, 2, 1);
            put_window_scale(out, &mut at, shift);
        }
        if self.sack_permitted {
            pad_nops(out, &mut at, 2, 0);
            put_sack_permitted(out, &mut at);
        }
        if let Some((tsval, tsecr)) = self.timestamps {
            pad_nops(out, &mut at, 4, 2);
            put_timestamps(out, &mut at, tsval, tsecr);
        }
        if blocks > 0 {
            pad_nops(out, &mut at, 4, 2);
            put_sack(out, &mut at, &self.sack_blocks()[..blocks]);
        }
        // RFC 9293 §3.1: the header is padded with zeros (EOL) to a
        // 32-bit boundary.
        out[at..].fill(kind::EOL);
        len
    }

    /// Linux's `tcp_options_write` order (every part 32-bit aligned, so no
    /// trailing padding is needed): `MSS`, then `SACKOK TS` (or `NOP NOP
    /// TS` / `NOP NOP SACKOK`), then `NOP WS`, then `NOP NOP SACK`.
    fn emit_linux(&self, buf: &mut [u8]) -> usize {
        let len = self.encoded_len();
        let out = &mut buf[..len];
        let mut at = 0;
        if let Some(mss) = self.mss {
            put_mss(out, &mut at, mss);
        }
        match (self.sack_permitted, self.timestamps) {
            (sack_ok, Some((tsval, tsecr))) => {
                if sack_ok {
                    put_sack_permitted(out, &mut at);
                } else {
                    put_nops(out, &mut at, 2);
                }
                put_timestamps(out, &mut at, tsval, tsecr);
            }
            (true, None) => {
                put_nops(out, &mut at, 2);
                put_sack_permitted(out, &mut at);
            }
            (false, None) => {}
        }
        if let Some(shift) = self.window_scale {
            put_nops(out, &mut at, 1);
            put_window_scale(out, &mut at, shift);
        }
        let blocks = &self.sack_blocks()[..self.emitted_sack_blocks()];
        if !blocks.is_empty() {
            put_nops(out, &mut at, 2);
            put_sack(out, &mut at, blocks);
        }
        debug_assert_eq!(at, len);
        len
    }

    /// Parse an option list (the bytes between the fixed header and the
    /// data offset). Never fails: like Linux, a bad option is skipped and
    /// counted, and the segment is still processed (RFC 9293 §3.1: ignore
    /// what you do not implement).
    ///
    /// EOL ends the list (the rest is padding); NOP is skipped; unknown
    /// kinds are skipped by their length and counted in `unknown`. A known
    /// option with the wrong length is skipped and counted in `malformed`;
    /// a length below 2 or running past the end stops parsing (there is no
    /// way to find the next option) and is counted in `malformed` too. A
    /// later occurrence of an option replaces an earlier one.
    #[inline]
    pub fn parse(opts: &[u8]) -> TcpOptions {
        // The two layouts nearly every data segment has, read directly:
        // no options, and the timestamps alone as Linux, FreeBSD and
        // synack send them (NOP NOP TS, RFC 7323 Appendix A).
        if opts.is_empty() {
            return TcpOptions::default();
        }
        if opts.len() == 12 && opts[..4] == [kind::NOP, kind::NOP, kind::TIMESTAMPS, 10] {
            return TcpOptions {
                timestamps: Some((be32(opts, 4), be32(opts, 8))),
                ..TcpOptions::default()
            };
        }
        Self::parse_list(opts)
    }

    /// The general parse: every option in turn.
    fn parse_list(opts: &[u8]) -> TcpOptions {
        let mut out = TcpOptions::default();
        for option in OptionList::new(opts) {
            match option {
                TcpOption::Eol => break,
                TcpOption::Nop => {}
                TcpOption::Mss(mss) => out.mss = Some(mss),
                TcpOption::WindowScale(shift) => out.window_scale = Some(shift),
                TcpOption::SackPermitted => out.sack_permitted = true,
                TcpOption::Sack(blocks) => {
                    out.clear_sack_blocks();
                    for block in blocks.iter() {
                        out.push_sack_block(block);
                    }
                }
                TcpOption::Timestamps(val, ecr) => out.timestamps = Some((val, ecr)),
                TcpOption::Unknown { .. } => out.unknown = out.unknown.saturating_add(1),
                TcpOption::Malformed { .. } => out.malformed = out.malformed.saturating_add(1),
            }
        }
        out
    }
}

impl fmt::Display for TcpOptions {
    /// The options in a short human form, e.g. `mss 1460, ws 3, sackOK,
    /// ts 7/0, sack 100-200`; empty when there are none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        let mut item = |f: &mut fmt::Formatter<'_>, text: fmt::Arguments<'_>| {
            let written = write!(f, "{sep}{text}");
            sep = ", ";
            written
        };
        if let Some(m) = self.mss {
            item(f, format_args!("mss {m}"))?;
        }
        if let Some(w) = self.window_scale {
            item(f, format_args!("ws {w}"))?;
        }
        if self.sack_permitted {
            item(f, format_args!("sackOK"))?;
        }
        if let Some((v, e)) = self.timestamps {
            item(f, format_args!("ts {v}/{e}"))?;
        }
        for b in self.sack_blocks() {
            item(f, format_args!("sack {}-{}", b.left, b.right))?;
        }
        Ok(())
    }
}

/// One option as it stands on the wire (RFC 9293 §3.2), from [`OptionList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0); what follows is padding.
    Eol,
    /// No-operation (kind 1), used to align the next option.
    Nop,
    /// Maximum segment size (kind 2, RFC 9293 §3.7.1).
    Mss(u16),
    /// Window scale shift count as sent (kind 3, RFC 7323 §2).
    WindowScale(u8),
    /// SACK-permitted (kind 4, RFC 2018 §2).
    SackPermitted,
    /// SACK blocks (kind 5, RFC 2018 §3).
    Sack(SackList<'a>),
    /// Timestamps TSval, TSecr (kind 8, RFC 7323 §3).
    Timestamps(u32, u32),
    /// A kind this stack does not know, with its data.
    Unknown {
        /// The option-kind octet.
        kind: u8,
        /// The bytes after kind and length.
        data: &'a [u8],
    },
    /// A known kind with the wrong length, or a length that cannot be
    /// followed (below 2 or past the end; the list ends there).
    Malformed {
        /// The option-kind octet.
        kind: u8,
    },
}

/// The blocks of one SACK option: 1 to 4 pairs of 32-bit edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SackList<'a>(&'a [u8]);

impl<'a> SackList<'a> {
    /// The blocks in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = SackBlock> + 'a {
        self.0.chunks_exact(8).map(|b| SackBlock {
            left: be32(b, 0),
            right: be32(b, 4),
        })
    }
}

/// The options of a header in wire order, padding included, for callers
/// that care about order (a packetdrill script does); [`TcpOptions::parse`]
/// reads the same list into a summary. Unlike `parse`, it goes on past an
/// EOL, yielding whatever bytes follow it.
#[derive(Debug, Clone)]
pub struct OptionList<'a> {
    rest: &'a [u8],
}

impl<'a> OptionList<'a> {
    /// The options in `bytes` (the bytes between the fixed header and the
    /// data offset).
    pub fn new(bytes: &'a [u8]) -> OptionList<'a> {
        OptionList { rest: bytes }
    }
}

impl<'a> Iterator for OptionList<'a> {
    type Item = TcpOption<'a>;

    fn next(&mut self) -> Option<TcpOption<'a>> {
        // RFC 9293 §3.2: option-kind is one octet; all but EOL and NOP
        // are followed by an option-length counting kind and length.
        let (code, len) = match self.rest {
            [] => return None,
            [kind::EOL, rest @ ..] => {
                self.rest = rest;
                return Some(TcpOption::Eol);
            }
            [kind::NOP, rest @ ..] => {
                self.rest = rest;
                return Some(TcpOption::Nop);
            }
            [code, len, ..] => (*code, usize::from(*len)),
            [code] => (*code, 0),
        };
        if len < 2 || len > self.rest.len() {
            self.rest = &[];
            return Some(TcpOption::Malformed { kind: code });
        }
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        Some(match code {
            // RFC 9293 §3.2: MSS has length 4.
            kind::MSS if len == 4 => TcpOption::Mss(be16(data, 0)),
            // RFC 7323 §2.2: window scale has length 3.
            kind::WINDOW_SCALE if len == 3 => TcpOption::WindowScale(data[0]),
            // RFC 2018 §2: SACK-permitted has length 2.
            kind::SACK_PERMITTED if len == 2 => TcpOption::SackPermitted,
            // RFC 2018 §3: SACK has length 2 + 8n; at most 4 blocks fit.
            kind::SACK if len > 2 && (len - 2) % 8 == 0 && (len - 2) / 8 <= MAX_SACK_BLOCKS => {
                TcpOption::Sack(SackList(data))
            }
            // RFC 7323 §3.2: timestamps have length 10.
            kind::TIMESTAMPS if len == 10 => TcpOption::Timestamps(be32(data, 0), be32(data, 4)),
            kind::MSS
            | kind::WINDOW_SCALE
            | kind::SACK_PERMITTED
            | kind::SACK
            | kind::TIMESTAMPS => TcpOption::Malformed { kind: code },
            kind => TcpOption::Unknown { kind, data },
        })
    }
}

// Writers for one option each at `*at`, moving `*at` past it; both
// layouts use them and differ only in order and padding.

fn put_nops(out: &mut [u8], at: &mut usize, n: usize) {
    out[*at..*at + n].fill(kind::NOP);
    *at += n;
}

fn put_mss(out: &mut [u8], at: &mut usize, mss: u16) {
    out[*at..*at + 2].copy_from_slice(&[kind::MSS, 4]);
    put16(out, *at + 2, mss);
    *at += 4;
}

fn put_window_scale(out: &mut [u8], at: &mut usize, shift: u8) {
    out[*at..*at + 3].copy_from_slice(&[kind::WINDOW_SCALE, 3, shift]);
    *at += 3;
}

fn put_sack_permitted(out: &mut [u8], at: &mut usize) {
    out[*at..*at + 2].copy_from_slice(&[kind::SACK_PERMITTED, 2]);
    *at += 2;
}

fn put_timestamps(out: &mut [u8], at: &mut usize, tsval: u32, tsecr: u32) {
    out[*at..*at + 2].copy_from_slice(&[kind::TIMESTAMPS, 10]);
    put32(out, *at + 2, tsval);
    put32(out, *at + 6, tsecr);
    *at += 10;
}

fn put_sack(out: &mut [u8], at: &mut usize, blocks: &[SackBlock]) {
    out[*at..*at + 2].copy_from_slice(&[kind::SACK, 2 + 8 * blocks.len() as u8]);
    *at += 2;
    for b in blocks {
        put32(out, *at, b.left);
        put32(out, *at + 4, b.right);
        *at += 8;
    }
}

/// NOPs from `*at` up to the next offset that is `rem` modulo `modulus`.
fn pad_nops(out: &mut [u8], at: &mut usize, modulus: usize, rem: usize) {
    let to = align(*at, modulus, rem);
    put_nops(out, at, to - *at);
}

/// The smallest offset `>= at` that is `rem` modulo `modulus`.
fn align(at: usize, modulus: usize, rem: usize) -> usize {
    at + (modulus + rem - at % modulus) % modulus
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u32) -> SackBlock {
        SackBlock {
            left: n,
            right: n + 100,
        }
    }

    #[test]
    fn the_fast_layouts_parse_as_the_general_walk_does() {
        let mut ts = [1, 1, 8, 10, 0, 0, 0, 7, 0xff, 0, 0, 9];
        assert_eq!(TcpOptions::parse(&ts).timestamps, Some((7, 0xff00_0009)));
        assert_eq!(TcpOptions::parse(&ts), TcpOptions::parse_list(&ts));
        assert_eq!(TcpOptions::parse(&[]), TcpOptions::parse_list(&[]));
        // Near misses take the general walk: a wrong length, another kind,
        // EOL in place of a NOP.
        for (at, value) in [(3, 9), (2, 5), (0, 0), (1, 0)] {
            ts[at] = value;
            assert_eq!(TcpOptions::parse(&ts), TcpOptions::parse_list(&ts));
            ts = [1, 1, 8, 10, 0, 0, 0, 7, 0xff, 0, 0, 9];
        }
        assert_eq!(
            TcpOptions::parse(&ts[..11]),
            TcpOptions::parse_list(&ts[..11])
        );
        assert_eq!(TcpOptions::parse(&ts[..11]).malformed, 1);
    }

    #[test]
    fn push_and_clear() {
        let mut o = TcpOptions::default();
        for i in 0..4 {
            assert!(o.push_sack_block(block(i)));
        }
        assert!(!o.push_sack_block(block(9)));
        assert_eq!(o.sack_blocks().len(), 4);
        o.clear_sack_blocks();
        assert_eq!(o, TcpOptions::default());
    }

    #[test]
    fn encoded_lengths() {
        let mut o = TcpOptions::default();
        assert_eq!(o.encoded_len(), 0);
        o.mss = Some(1460);
        assert_eq!(o.encoded_len(), 4);
        o.sack_permitted = true;
        assert_eq!(o.encoded_len(), 8);
        o.timestamps = Some((1, 2));
        assert_eq!(o.encoded_len(), 16);
        o.window_scale = Some(7);
        assert_eq!(o.encoded_len(), 20);

        let mut o = TcpOptions {
            timestamps: Some((1, 2)),
            ..TcpOptions::default()
        };
        for i in 0..4 {
            o.push_sack_block(block(i));
        }
        // 12 (NOP NOP TS) + 4 + 3*8 = 40: only 3 blocks fit.
        assert_eq!(o.emitted_sack_blocks(), 3);
        assert_eq!(o.encoded_len(), 40);
        o.timestamps = None;
        assert_eq!(o.emitted_sack_blocks(), 4);
        assert_eq!(o.encoded_len(), 36);
    }

    #[test]
    fn linux_syn_layout() {
        let o = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((0x01020304, 0)),
            ..TcpOptions::default()
        };
        let mut buf = [0u8; 40];
        let n = o.emit(&mut buf);
        assert_eq!(
            &buf[..n],
            &[2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7]
        );
        assert_eq!(TcpOptions::parse(&buf[..n]), o);
    }

    /// Emits `o` under the FreeBSD layout, checks the bytes, and that
    /// parsing gives `o` back (as the default layout).
    fn freebsd(o: TcpOptions, want: &[u8]) {
        let o = TcpOptions {
            layout: OptionLayout::FreeBsd,
            ..o
        };
        assert_eq!(o.encoded_len(), want.len());
        let mut buf = [0xEE; 40];
        let n = o.emit(&mut buf);
        assert_eq!(&buf[..n], want);
        assert!(buf[n..].iter().all(|&b| b == 0xEE));
        let linux = TcpOptions {
            layout: OptionLayout::Linux,
            ..o
        };
        assert_eq!(TcpOptions::parse(&buf[..n]), linux);
    }

    #[test]
    fn freebsd_syn_layouts() {
        let all = TcpOptions {
            mss: Some(1460),
            window_scale: Some(6),
            sack_permitted: true,
            timestamps: Some((0x01020304, 0)),
            ..TcpOptions::default()
        };
        // <mss 1460,nop,wscale 6,sackOK,TS val 16909060 ecr 0>
        freebsd(
            all,
            &[
                2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
            ],
        );
        // <mss 1460,sackOK,eol,eol>
        let no_ts_ws = TcpOptions {
            window_scale: None,
            timestamps: None,
            ..all
        };
        freebsd(no_ts_ws, &[2, 4, 0x05, 0xb4, 4, 2, 0, 0]);
        // <mss 1460,nop,wscale 6,sackOK,eol,eol>
        let no_ts = TcpOptions {
            timestamps: None,
            ..all
        };
        freebsd(no_ts, &[2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4, 2, 0, 0]);
        // <mss 1460,nop,wscale 6,nop,nop,TS val 16909060 ecr 0>
        let no_sack = TcpOptions {
            sack_permitted: false,
            ..all
        };
        freebsd(
            no_sack,
            &[
                2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
            ],
        );
        // <mss 1460,sackOK,TS val 16909060 ecr 0>
        let no_ws = TcpOptions {
            window_scale: None,
            ..all
        };
        freebsd(
            no_ws,
            &[2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0],
        );
        // <mss 1460>
        let mss_only = TcpOptions {
            mss: Some(1460),
            ..TcpOptions::default()
        };
        freebsd(mss_only, &[2, 4, 0x05, 0xb4]);
        freebsd(TcpOptions::default(), &[]);
    }

    #[test]
    fn freebsd_data_layouts() {
        // <nop,nop,TS val 1 ecr 2>
        let mut o = TcpOptions {
            timestamps: Some((1, 2)),
            ..TcpOptions::default()
        };
        freebsd(o, &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        // <nop,nop,TS val 1 ecr 2,nop,nop,sack 0:100 1:101 2:102>: only 3
        // blocks fit beside timestamps.
        for i in 0..4 {
            o.push_sack_block(block(i));
        }
        let mut want = vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 5, 26];
        for i in 0..3u32 {
            want.extend_from_slice(&i.to_be_bytes());
            want.extend_from_slice(&(i + 100).to_be_bytes());
        }
        let fb = TcpOptions {
            layout: OptionLayout::FreeBsd,
            ..o
        };
        assert_eq!(fb.emitted_sack_blocks(), 3);
        freebsd(fb.truncated_to_fit(), &want);
        // <nop,nop,sack 0:100 1:101 2:102 3:103>
        o.timestamps = None;
        let mut want = vec![1, 1, 5, 34];
        for i in 0..4u32 {
            want.extend_from_slice(&i.to_be_bytes());
            want.extend_from_slice(&(i + 100).to_be_bytes());
        }
        freebsd(o, &want);
    }

    #[test]
    fn layouts_agree_on_data_segments() {
        let mut o = TcpOptions {
            timestamps: Some((7, 9)),
            ..TcpOptions::default()
        };
        for i in 0..4 {
            o.push_sack_block(block(i));
            for ts in [Some((7, 9)), None] {
                let linux = TcpOptions {
                    timestamps: ts,
                    ..o
                };
                let fb = TcpOptions {
                    layout: OptionLayout::FreeBsd,
                    ..linux
                };
                let (mut a, mut b) = ([0u8; 40], [0u8; 40]);
                let n = linux.emit(&mut a);
                assert_eq!(fb.emit(&mut b), n);
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn option_list_keeps_wire_order_and_padding() {
        let bytes = [
            2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, //
            5, 10, 0, 0, 0, 9, 0, 0, 0, 10, 30, 3, 9, 0, 0xff,
        ];
        let list: Vec<TcpOption<'_>> = OptionList::new(&bytes).collect();
        assert_eq!(
            &list[..5],
            [
                TcpOption::Mss(1460),
                TcpOption::Nop,
                TcpOption::WindowScale(7),
                TcpOption::SackPermitted,
                TcpOption::Timestamps(1, 2),
            ]
        );
        let TcpOption::Sack(blocks) = list[5] else {
            panic!("{list:?}")
        };
        assert_eq!(
            blocks.iter().collect::<Vec<_>>(),
            [SackBlock { left: 9, right: 10 }]
        );
        // An unknown kind keeps its data; the walk goes on past EOL, and a
        // lone last byte has no length.
        assert_eq!(
            &list[6..],
            [
                TcpOption::Unknown {
                    kind: 30,
                    data: &[9]
                },
                TcpOption::Eol,
                TcpOption::Malformed { kind: 0xff },
            ]
        );
    }

    #[test]
    fn option_list_flags_wrong_lengths() {
        // MSS with length 3 is skipped by its length; a length past the
        // end stops the walk.
        let bytes = [2, 3, 0, 1, 8, 40, 0];
        let list: Vec<_> = OptionList::new(&bytes).collect();
        assert_eq!(
            list,
            [
                TcpOption::Malformed { kind: 2 },
                TcpOption::Nop,
                TcpOption::Malformed { kind: 8 },
            ]
        );
        let parsed = TcpOptions::parse(&bytes);
        assert_eq!((parsed.mss, parsed.malformed), (None, 2));
    }

    #[test]
    fn options_display_in_short_form() {
        let mut o = TcpOptions {
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((5, 0)),
            ..TcpOptions::default()
        };
        o.push_sack_block(SackBlock {
            left: 100,
            right: 200,
        });
        assert_eq!(
            o.to_string(),
            "mss 1460, ws 7, sackOK, ts 5/0, sack 100-200"
        );
        assert_eq!(TcpOptions::default().to_string(), "");
        let only_ts = TcpOptions {
            timestamps: Some((1, 2)),
            ..TcpOptions::default()
        };
        assert_eq!(only_ts.to_string(), "ts 1/2");
    }

    #[test]
    fn eol_stops_parsing() {
        let opts = [2, 4, 0, 100, 0, 0xFF, 0xFF, 0xFF];
        assert_eq!(TcpOptions::parse(&opts).mss, Some(100));
    }

    #[test]
    fn duplicate_sack_option_replaces() {
        let opts = [
            5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, //
            5, 10, 0, 0, 0, 9, 0, 0, 0, 10,
        ];
        let parsed = TcpOptions::parse(&opts);
        assert_eq!(parsed.sack_blocks(), &[SackBlock { left: 9, right: 10 }]);
    }
}
