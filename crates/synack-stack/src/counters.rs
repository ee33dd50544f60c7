//! Host-wide counters, named after Linux's nstat (`IpInReceives`,
//! `TcpInCsumErrors`, ...).

use std::fmt;

/// Counters of one host; every drop has a counter.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub ip_in_receives: u64,
    pub ip_in_hdr_errors: u64,
    pub ip_in_csum_errors: u64,
    pub ip_in_addr_errors: u64,
    pub ip_in_unknown_protos: u64,
    pub ip_frag_dropped: u64,
    pub icmp_in_msgs: u64,
    pub tcp_in_segs: u64,
    pub tcp_in_errs: u64,
    pub tcp_in_csum_errors: u64,
    pub tcp_out_segs: u64,
    pub tcp_out_rsts: u64,
    pub out_rsts_dropped: u64,
    pub events_dropped: u64,
}

impl Counters {
    /// (nstat name, value) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("IpInReceives", self.ip_in_receives),
            ("IpInHdrErrors", self.ip_in_hdr_errors),
            ("IpInCsumErrors", self.ip_in_csum_errors),
            ("IpInAddrErrors", self.ip_in_addr_errors),
            ("IpInUnknownProtos", self.ip_in_unknown_protos),
            ("IpReasmFails", self.ip_frag_dropped),
            ("IcmpInMsgs", self.icmp_in_msgs),
            ("TcpInSegs", self.tcp_in_segs),
            ("TcpInErrs", self.tcp_in_errs),
            ("TcpInCsumErrors", self.tcp_in_csum_errors),
            ("TcpOutSegs", self.tcp_out_segs),
            ("TcpOutRsts", self.tcp_out_rsts),
            ("TcpOutRstsDropped", self.out_rsts_dropped),
            ("EventsDropped", self.events_dropped),
        ]
        .into_iter()
    }

    /// Segments and packets dropped because a checksum failed.
    pub fn checksum_errors(&self) -> u64 {
        self.ip_in_csum_errors + self.tcp_in_csum_errors
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, v) in self.iter().filter(|(_, v)| *v != 0) {
            writeln!(f, "{name:<20} {v}")?;
        }
        Ok(())
    }
}
