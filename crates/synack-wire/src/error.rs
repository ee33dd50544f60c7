//! The error type shared by all parsers in this crate.

use core::fmt;

/// Why a packet could not be parsed.
///
/// Parsers return the first problem they find; callers typically count the
/// error kind and drop the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    /// The buffer is shorter than a header or a length field claims.
    Truncated,
    /// The IP version nibble is not the expected one (4 or 6).
    BadVersion,
    /// A header length field is below its minimum (e.g. IPv4 IHL < 5).
    BadHeaderLen,
    /// A length field is inconsistent (e.g. IPv4 total length < header length).
    BadLength,
    /// A checksum did not verify.
    BadChecksum,
    /// The TCP data offset is below 5 or points past the end of the segment.
    BadDataOffset,
    /// The IP packet is a fragment; reassembly is not supported.
    Fragment,
    /// The packet is well-formed but of a kind this crate does not handle.
    Unsupported,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            WireError::Truncated => "truncated packet",
            WireError::BadVersion => "bad ip version",
            WireError::BadHeaderLen => "bad header length",
            WireError::BadLength => "bad length field",
            WireError::BadChecksum => "bad checksum",
            WireError::BadDataOffset => "bad tcp data offset",
            WireError::Fragment => "fragmented packet",
            WireError::Unsupported => "unsupported packet",
        };
        f.write_str(msg)
    }
}

impl std::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_short_lowercase() {
        let all = [
            WireError::Truncated,
            WireError::BadVersion,
            WireError::BadHeaderLen,
            WireError::BadLength,
            WireError::BadChecksum,
            WireError::BadDataOffset,
            WireError::Fragment,
            WireError::Unsupported,
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty() && s.len() < 32, "{s}");
            assert_eq!(s, s.to_lowercase());
        }
        let boxed: Box<dyn std::error::Error> = Box::new(WireError::Fragment);
        assert_eq!(boxed.to_string(), "fragmented packet");
    }
}
