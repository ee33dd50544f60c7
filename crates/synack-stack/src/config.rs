//! A host's settings, and the secrets it derives from the entropy it is
//! given.

use crate::demux::DemuxHash;
use std::net::IpAddr;
use synack_tcp::isn::siphash24;
use synack_tcp::{Config, IsnSecret};

/// Settings for a host.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The host's addresses with their prefix lengths: each address and
    /// the network it is on (an on-link route). IPv4 and IPv6 may mix.
    pub addresses: Vec<(IpAddr, u8)>,
    /// A default route for IPv4 (every IPv4 destination is reachable
    /// through the link), and for IPv6.
    pub default_route_v4: bool,
    pub default_route_v6: bool,
    /// The link's MTU (the device's); the MSS is MTU − IP header − TCP
    /// header, per family (1460 for IPv4 and 1440 for IPv6 on 1500).
    pub mtu: usize,
    /// A lower MSS for every connection than the MTU gives (like an MSS
    /// clamp on a router), if set.
    pub mss_clamp: Option<u16>,
    /// TCP settings of every connection unless one is given its own. Its
    /// `mss` is not used: the MTU (and `mss_clamp`) decide.
    pub tcp: Config,
    /// A fixed ISN key, for tests and demos that must replay exactly.
    /// `None` (the default): drawn from the host's entropy (RFC 6528).
    pub isn_secret: Option<IsnSecret>,
    /// Ephemeral ports for `connect` (RFC 6335: 49152–65535).
    pub ephemeral_ports: (u16, u16),
    /// Half-open connections a listener keeps at most (Linux
    /// tcp_max_syn_backlog); a listener's SYN queue is full at its listen
    /// backlog or at this, whichever is lower, as on Linux.
    pub syn_backlog: usize,
    /// Answer with SYN cookies when the SYN queue is full (RFC 4987 §3.6).
    pub syncookies: bool,
    /// Connections the application has let go of that may still be
    /// finishing (Linux tcp_max_orphans); beyond it the oldest are reset.
    pub max_orphans: usize,
    /// Entries the TIME-WAIT table holds (Linux tcp_max_tw_buckets);
    /// beyond it a closing connection skips TIME-WAIT (counted).
    pub max_time_wait: usize,
    /// Challenge ACKs the whole host sends per second (RFC 5961 §7); the
    /// actual budget each second is drawn between half and 1.5 times this.
    pub challenge_ack_limit: u32,
    /// TTL / hop limit of packets we originate.
    pub hop_limit: u8,
    /// The link computes and checks TCP checksums, or cannot corrupt a
    /// packet (an in-memory wire): segments go out with a zero checksum and
    /// arriving ones are not checked. Off by default; never on for a link
    /// that can flip a bit. (IPv4 header checksums are still kept.)
    pub checksum_offload: bool,
}

impl HostConfig {
    /// One address (/24 for IPv4, /64 for IPv6) with a default route, a
    /// 1500-byte link, and Linux-like defaults.
    pub fn new(addr: IpAddr) -> Self {
        let prefix = if addr.is_ipv4() { 24 } else { 64 };
        HostConfig {
            addresses: vec![(addr, prefix)],
            default_route_v4: true,
            default_route_v6: true,
            mtu: 1500,
            mss_clamp: None,
            tcp: Config::default(),
            isn_secret: None,
            ephemeral_ports: (49152, 65535),
            syn_backlog: 1024,
            syncookies: true,
            max_orphans: 65536,
            max_time_wait: 262_144,
            challenge_ack_limit: 1000,
            hop_limit: 64,
            checksum_offload: false,
        }
    }

    /// The first address (of either family).
    pub fn addr(&self) -> IpAddr {
        self.addresses
            .first()
            .map(|a| a.0)
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }
}

/// The host's secrets, all derived from the entropy it was created with.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    pub isn: IsnSecret,
    /// SYN cookies (RFC 4987 §3.6).
    pub cookie: [u8; 16],
    /// Ephemeral port selection (RFC 6056 algorithm 3).
    pub ports: [u8; 16],
    /// The demultiplexing tables' hash.
    pub demux: DemuxHash,
    /// State of the small generator behind the randomised challenge-ACK
    /// budget (RFC 5961 §7, against CVE-2016-5696).
    pub rng: u64,
}

fn derive(entropy: &[u8; 32], label: u8) -> [u8; 16] {
    let mut key = [0u8; 16];
    key.copy_from_slice(&entropy[..16]);
    let mut msg = [0u8; 17];
    msg[..16].copy_from_slice(&entropy[16..]);
    msg[16] = label;
    let a = siphash24(&key, &msg);
    msg[16] = label ^ 0x80;
    let b = siphash24(&key, &msg);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&a.to_le_bytes());
    out[8..].copy_from_slice(&b.to_le_bytes());
    out
}

impl Keys {
    pub fn new(entropy: &[u8; 32], fixed_isn: Option<IsnSecret>) -> Keys {
        Keys {
            isn: fixed_isn.unwrap_or_else(|| IsnSecret::new(derive(entropy, 1))),
            cookie: derive(entropy, 2),
            ports: derive(entropy, 3),
            demux: DemuxHash::new(derive(entropy, 5)),
            rng: u64::from_le_bytes(derive(entropy, 4)[..8].try_into().unwrap_or([1; 8])) | 1,
        }
    }

    /// A pseudo-random number (xorshift64*), for budgets, never for keys.
    pub fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}
