//! Per-connection settings. Defaults follow Linux where the RFCs leave a choice.

use crate::time::Duration;

/// Settings a connection is created with.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// MSS we announce: the largest segment we can receive (MTU − 40 for IPv4).
    pub mss: u16,
    /// Bytes of send buffer (data the application queued and the peer has not
    /// acknowledged).
    pub send_buffer: usize,
    /// Bytes of receive buffer; the advertised window never exceeds the free
    /// space in it.
    pub recv_buffer: usize,
    /// Offer window scaling (RFC 7323 §2) in our SYN.
    pub window_scaling: bool,
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
    /// Data/FIN retransmissions before the connection is dropped (tcp_retries2).
    pub max_retries: u32,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this (RFC 9293 §3.4.1).
    pub msl: Duration,
    /// Most out-of-order ranges kept for reassembly; further ones are dropped.
    pub max_ooo_ranges: usize,
    /// Initial congestion window in segments (RFC 6928).
    pub initial_window: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            send_buffer: 256 * 1024,
            recv_buffer: 256 * 1024,
            window_scaling: true,
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_millis(200),
            max_rto: Duration::from_secs(120),
            syn_retries: 6,
            synack_retries: 5,
            max_retries: 15,
            msl: Duration::from_secs(60),
            max_ooo_ranges: 32,
            initial_window: 10,
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
