//! Host-wide counters, named as Linux's nstat names them (`IpInReceives`,
//! `TcpExtListenOverflows`, ...). Every drop has a counter.

use std::fmt;

macro_rules! counters {
    ($($(#[$doc:meta])* $field:ident => $name:literal,)*) => {
        /// Counters of one host.
        #[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
        pub struct Counters {
            $($(#[$doc])* pub $field: u64,)*
        }

        impl Counters {
            /// (nstat name, value) pairs, in a fixed order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$(($name, self.$field),)*].into_iter()
            }
        }
    };
}

counters! {
    /// IP packets that arrived.
    ip_in_receives => "IpInReceives",
    /// Bad IP headers: version, lengths, TTL or hop limit 0.
    ip_in_hdr_errors => "IpInHdrErrors",
    /// IPv4 header checksum failures.
    ip_in_csum_errors => "IpExtInCsumErrors",
    /// Packets for an address this host does not have.
    ip_in_addr_errors => "IpInAddrErrors",
    ip_in_unknown_protos => "IpInUnknownProtos",
    /// Fragments: counted and dropped (this host does not reassemble).
    ip_reasm_fails => "IpReasmFails",
    /// Packets this host could not send: no route to the destination.
    ip_out_no_routes => "IpOutNoRoutes",
    icmp_in_msgs => "IcmpInMsgs",
    icmp_in_errors => "IcmpInErrors",
    icmp_in_echos => "IcmpInEchos",
    icmp_out_echo_reps => "IcmpOutEchoReps",
    icmp_in_dest_unreachs => "IcmpInDestUnreachs",
    /// Packet-too-big / fragmentation-needed messages taken.
    icmp_in_pmtu => "IcmpExtInPmtu",
    /// ICMP errors about segments that are not in flight (RFC 5927).
    icmp_ignored => "TcpExtOutOfWindowIcmps",
    tcp_in_segs => "TcpInSegs",
    tcp_out_segs => "TcpOutSegs",
    tcp_retrans_segs => "TcpRetransSegs",
    tcp_in_errs => "TcpInErrs",
    tcp_in_csum_errors => "TcpInCsumErrors",
    tcp_out_rsts => "TcpOutRsts",
    tcp_active_opens => "TcpActiveOpens",
    tcp_passive_opens => "TcpPassiveOpens",
    tcp_attempt_fails => "TcpAttemptFails",
    tcp_estab_resets => "TcpEstabResets",
    /// Accept queue full: a completed handshake (or SYN) dropped.
    listen_overflows => "TcpExtListenOverflows",
    /// SYNs and ACKs a listener dropped (includes overflows).
    listen_drops => "TcpExtListenDrops",
    syncookies_sent => "TcpExtSyncookiesSent",
    syncookies_recv => "TcpExtSyncookiesRecv",
    syncookies_failed => "TcpExtSyncookiesFailed",
    /// Half-open connections that ran out of SYN-ACK retransmissions.
    synack_timeouts => "TcpExtTCPTimeouts",
    /// Challenge ACKs sent (RFC 5961).
    challenge_acks => "TcpExtTCPChallengeACK",
    /// Challenge ACKs held back by the host-wide budget.
    challenge_acks_dropped => "TcpExtTCPChallengeACKDropped",
    /// Orphans reset because there were too many.
    orphans_reset => "TcpExtTCPAbortOnMemory",
    /// Connections that entered the TIME-WAIT table.
    time_waits => "TcpExtTW",
    /// TIME-WAIT entries ended early by a new SYN (RFC 6191) or reuse.
    tw_recycled => "TcpExtTWRecycled",
    /// Connections that skipped TIME-WAIT because the table was full.
    tw_overflows => "TcpExtTCPTimeWaitOverflow",
    /// Segments our own buffer was too small for (never lost: retried).
    out_buffer_small => "SynackOutBufferTooSmall",
    /// Host-built segments dropped because the outbox was full.
    outbox_drops => "SynackOutboxDrops",
    events_dropped => "SynackEventsDropped",
}

impl Counters {
    /// Segments and packets dropped because a checksum failed.
    pub fn checksum_errors(&self) -> u64 {
        self.ip_in_csum_errors + self.tcp_in_csum_errors
    }
}

impl fmt::Display for Counters {
    /// The non-zero counters, one per line, as `nstat` prints them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, v) in self.iter().filter(|(_, v)| *v != 0) {
            writeln!(f, "{name:<32} {v}")?;
        }
        Ok(())
    }
}
