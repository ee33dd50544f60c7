//! Per-connection settings. Defaults follow Linux where the RFCs leave a choice.

use crate::congestion::Algorithm;
use crate::time::Duration;
use synack_wire::OptionLayout;

/// RFC 9293 §3.8.4 keep-alive: probe an idle peer, give up when it is gone.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe (Linux tcp_keepalive_time, 2 h;
    /// RFC 9293 says no less than two hours by default).
    pub idle: Duration,
    /// Time between unanswered probes (tcp_keepalive_intvl, 75 s).
    pub interval: Duration,
    /// Unanswered probes before the connection fails with TimedOut
    /// (tcp_keepalive_probes, 9).
    pub count: u32,
}

/// [`Keepalive`] as a connection keeps it: milliseconds in `u32`s
/// (16 bytes instead of 48 with the `Option`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct CompactKeepalive {
    idle_ms: u32,
    interval_ms: u32,
    count: u32,
}

fn ms_u32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl From<Keepalive> for CompactKeepalive {
    fn from(k: Keepalive) -> Self {
        CompactKeepalive {
            idle_ms: ms_u32(k.idle),
            interval_ms: ms_u32(k.interval),
            count: k.count,
        }
    }
}

impl CompactKeepalive {
    pub fn idle(&self) -> Duration {
        Duration::from_millis(u64::from(self.idle_ms))
    }
    pub fn interval(&self) -> Duration {
        Duration::from_millis(u64::from(self.interval_ms))
    }
    pub fn count(&self) -> u32 {
        self.count
    }
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            idle: Duration::from_secs(7200),
            interval: Duration::from_secs(75),
            count: 9,
        }
    }
}

/// Settings a connection is created with.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// MSS we announce: the largest segment we can receive (MTU − 40 for
    /// IPv4, MTU − 60 for IPv6).
    pub mss: u16,
    /// Bytes of send buffer (data the application queued and the peer has not
    /// acknowledged).
    pub send_buffer: usize,
    /// Bytes of receive window we offer at most; the advertised window never
    /// exceeds the free space in the receive buffer.
    pub recv_buffer: usize,
    /// Offer window scaling (RFC 7323 §2) in our SYN.
    pub window_scaling: bool,
    /// Offer SACK (RFC 2018) in our SYN.
    pub sack: bool,
    /// Offer timestamps (RFC 7323 §3) in our SYN: RTT measurement and PAWS.
    pub timestamps: bool,
    /// Disable Nagle's algorithm (TCP_NODELAY): send small segments at once
    /// even while earlier data is unacknowledged.
    pub nodelay: bool,
    /// Longest an ACK may be delayed (RFC 9293 §3.8.6.3: at most 0.5 s;
    /// Linux's minimum is 40 ms). Zero acknowledges every segment at once.
    pub delayed_ack: Duration,
    /// Congestion control algorithm (CUBIC by default, as on Linux).
    pub congestion: Algorithm,
    /// HyStart++ (RFC 9406): leave slow start when the RTT starts to grow.
    pub hystart: bool,
    /// RACK-TLP loss detection and tail loss probes (RFC 8985), used when
    /// both sides support SACK.
    pub rack: bool,
    /// RFC 6298 §2.1: the RTO before any measurement.
    pub initial_rto: Duration,
    /// RFC 6298 §2.4 says 1 s; Linux uses 200 ms.
    pub min_rto: Duration,
    /// Upper bound on the RTO (RFC 6298 §2.5 allows ≥ 60 s).
    pub max_rto: Duration,
    /// SYN retransmissions before `connect` fails with TimedOut (Linux tcp_syn_retries).
    pub syn_retries: u32,
    /// SYN-ACK retransmissions before a half-open connection is dropped (tcp_synack_retries).
    pub synack_retries: u32,
    /// Retransmissions of data or FIN, and unanswered zero-window probes,
    /// before the connection fails with TimedOut (tcp_retries2).
    pub max_retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 §3.4.1).
    pub msl: Duration,
    /// How long a connection the application has closed may wait in
    /// FIN-WAIT-2 for the peer's FIN (Linux tcp_fin_timeout, 60 s).
    pub fin_timeout: Duration,
    /// Keep-alive probing; off by default (RFC 9293 §3.8.4).
    pub keepalive: Option<Keepalive>,
    /// Most out-of-order ranges kept for reassembly; further ones are dropped.
    pub max_ooo_ranges: usize,
    /// Initial congestion window in segments (RFC 6928: 10).
    pub initial_window: u32,
    /// The order and padding of the options in every segment we build
    /// (Linux's by default; both are legal, RFC 9293 §3.1).
    pub option_layout: OptionLayout,
    /// An upper bound the application puts on the MSS (TCP_MAXSEG): a
    /// stack that derives `mss` from its link MTU keeps it at or below
    /// this, so both the MSS announced and the segments sent are limited.
    pub max_segment: Option<u16>,
    /// Announce our MSS in the SYN. RFC 9293 §3.7.1 says SHOULD (SHLD-5)
    /// whenever it differs from the default; FreeBSD's TCP_NOOPT turns it
    /// off, together with every other option, and the peer then assumes
    /// 536 (1220 over IPv6).
    pub mss_option: bool,
    /// Give up on an open that has not reached ESTABLISHED within this
    /// time (FreeBSD's TCP_KEEPINIT). RFC 9293 §3.8.3 lets the application
    /// end an open attempt sooner than R2; `None` leaves it to
    /// `syn_retries` / `synack_retries`.
    pub setup_timeout: Option<Duration>,
    /// Linux's quick-ACK mode: the first in-order segments of a connection
    /// (and those after a gap was filled) are acknowledged one by one, so
    /// a sender in slow start is not held back by delayed ACKs. FreeBSD
    /// has no such mode and delays from the first segment.
    pub quick_ack: bool,
    /// What "every second segment" counts (RFC 9293 §3.8.6.3,
    /// RFC 5681 §4.2).
    pub ack_every: AckEvery,
    /// How the receiver avoids the silly window syndrome.
    pub receiver_sws: ReceiverSws,
    /// While our FIN is unacknowledged and all data is sent, an ACK we send
    /// carries the FIN again, at SND.NXT − 1 (4.4BSD's tcp_output, kept by
    /// FreeBSD: the answer to a FIN in CLOSING is `F.`). A FIN the peer
    /// already has is a duplicate to it (RFC 9293 §3.10.7.4), so this
    /// changes nothing on the wire but the flag and the sequence number.
    pub fin_on_every_ack: bool,
}

/// When in-order data is acknowledged at the latest, short of the
/// delayed-ACK timer.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AckEvery {
    /// Once two full-sized segments' worth of bytes is unacknowledged
    /// (Linux; RFC 9293 §3.8.6.3's "2*RMSS bytes").
    TwoFullSegments,
    /// On every second segment, whatever its size (FreeBSD).
    TwoSegments,
}

/// The receiver's silly-window-syndrome avoidance (RFC 9293 §3.8.6.2.2,
/// a MUST). Both keep the peer from being offered a sliver of window.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReceiverSws {
    /// The RFC's algorithm: keep the right edge fixed until it can move
    /// by min(buffer / 2, MSS).
    RightEdge,
    /// 4.4BSD's (FreeBSD's tcp_output): offer all the free space, but a
    /// window below min(buffer / 4, MSS) not at all; never less than was
    /// offered before. The right edge may advance in small steps while
    /// the window stays large, which the sender's own SWS rule absorbs.
    SmallWindow,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            window_scaling: true,
            sack: true,
            timestamps: true,
            nodelay: false,
            delayed_ack: Duration::from_millis(40),
            congestion: Algorithm::Cubic,
            hystart: true,
            rack: true,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(120),
            syn_retries: 6,
            synack_retries: 5,
            max_retries: 15,
            msl: Duration::from_secs(60),
            fin_timeout: Duration::from_secs(60),
            keepalive: None,
            max_ooo_ranges: 32,
            initial_window: 10,
            option_layout: OptionLayout::Linux,
            max_segment: None,
            mss_option: true,
            setup_timeout: None,
            quick_ack: true,
            ack_every: AckEvery::TwoFullSegments,
            receiver_sws: ReceiverSws::RightEdge,
            fin_on_every_ack: false,
        }
    }
}

impl Config {
    /// The window scale shift we offer: the smallest that lets the receive
    /// buffer be advertised in 16 bits (RFC 7323 §2.3, at most 14).
    pub fn rcv_wscale(&self) -> u8 {
        let mut shift = 0u8;
        while shift < 14 && (self.recv_buffer >> shift) > 0xffff {
            shift += 1;
        }
        shift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wscale(recv_buffer: usize) -> u8 {
        Config {
            recv_buffer,
            ..Config::default()
        }
        .rcv_wscale()
    }

    #[test]
    fn the_window_scale_is_the_smallest_that_fits_the_buffer_in_16_bits() {
        assert_eq!(wscale(0xffff), 0, "65535 fits unscaled");
        assert_eq!(wscale(0x1_0000), 1);
        assert_eq!(wscale(0x1_ffff), 1);
        assert_eq!(wscale(0x2_0000), 2);
        assert_eq!(wscale(256 * 1024), 3);
    }

    #[test]
    fn the_window_scale_is_at_most_14() {
        // RFC 7323 §2.3: a larger shift is used as 14 (and logged).
        assert_eq!(wscale(0xffff << 14), 14);
        assert_eq!(wscale(1 << 31), 14);
        assert_eq!(wscale(usize::MAX), 14);
    }
}
