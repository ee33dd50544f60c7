//! ICMP errors the stack hands to a connection: destination unreachable
//! (RFC 1122 §4.2.3.9) and "packet too big" (RFC 1191, RFC 8201). The
//! stack finds the connection from the quoted header; the connection checks
//! that the quoted sequence number is one it has in flight (RFC 5927 §4.1),
//! so a blind attacker cannot reset it or shrink its segments.

use crate::conn::Connection;
use crate::error::CloseReason;
use crate::seq::SeqNum;
use crate::state::{Cause, State};
use crate::time::Instant;

/// What an ICMP error did to a connection.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IcmpVerdict {
    /// The quoted sequence number is not in flight: ignored (RFC 5927).
    Ignored,
    /// Taken: a soft error, nothing changes (RFC 1122: the connection keeps
    /// trying; its own timers decide).
    Soft,
    /// The connection was refused (unreachable during SYN-SENT).
    Refused,
    /// The path MTU fell; segments are smaller from now on.
    MssLowered,
}

impl Connection {
    /// RFC 5927 §4.1: the quoted SEG.SEQ must be in SND.UNA..SND.NXT.
    fn quoted_in_flight(&self, seq: SeqNum) -> bool {
        seq.in_window(self.snd.una, self.snd.nxt.since(self.snd.una))
    }

    /// A destination unreachable for a segment we sent at `seq`. `hard` is
    /// true for port and protocol unreachable. During SYN-SENT a hard error
    /// refuses the connection, as Linux does; otherwise errors are soft.
    pub fn on_icmp_unreachable(&mut self, now: Instant, seq: SeqNum, hard: bool) -> IcmpVerdict {
        if !self.quoted_in_flight(seq) {
            return IcmpVerdict::Ignored;
        }
        if hard && self.state == State::SynSent {
            self.terminate(now, CloseReason::Refused, Cause::IcmpUnreachable);
            return IcmpVerdict::Refused;
        }
        IcmpVerdict::Soft
    }

    /// Packet too big: the path carries at most `mss` bytes of TCP payload
    /// plus header (MTU − IP header − 20), for the segment sent at `seq`.
    /// Segments in flight larger than that are resent in smaller pieces.
    pub fn on_path_mtu(&mut self, now: Instant, seq: SeqNum, mss: u16) -> IcmpVerdict {
        let _ = now;
        if !self.quoted_in_flight(seq) {
            return IcmpVerdict::Ignored;
        }
        // A floor of 88, as Linux's TCP_MIN_MSS: room for 8 bytes of data
        // beside 60-byte IP and TCP headers ((60 + 60 + 8) − (20 + 20)).
        // RFC 1191's 68-byte IPv4 minimum would allow an MSS of 28, and a
        // forged "fragmentation needed" would then cut every segment to a
        // sliver.
        let mss = mss.max(88);
        if mss >= self.snd.mss {
            return IcmpVerdict::Soft;
        }
        self.snd.mss = mss;
        let max_payload = u32::from(self.payload_mss());
        self.snd.lower_mss(max_payload);
        IcmpVerdict::MssLowered
    }
}
