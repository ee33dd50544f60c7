//! The defaults each corpus assumes (the corpus README's profile tables),
//! mapped onto synack's `HostConfig` and `Config`, and the `sysctl` knobs a
//! script may change while it runs.
//!
//! Nothing here is tuned to a script: a value is either the upstream OS's
//! documented default or a knob the script sets explicitly.

use std::net::IpAddr;
use std::time::Duration;
use synack_stack::HostConfig;
use synack_tcp::{AckEvery, Algorithm, Config, Keepalive, ReceiverSws, State};
use synack_wire::OptionLayout;

/// Which upstream OS's defaults to assume.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    Linux,
    FreeBsd,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Linux => "linux",
            Profile::FreeBsd => "freebsd",
        }
    }

    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "linux" | "google" => Some(Profile::Linux),
            "freebsd" => Some(Profile::FreeBsd),
            _ => None,
        }
    }

    /// The profile for a script path: its corpus folder decides
    /// (`google/` → linux, `freebsd/` → freebsd).
    pub fn for_path(path: &std::path::Path) -> Option<Profile> {
        path.components()
            .find_map(|c| match c.as_os_str().to_str() {
                Some("google") => Some(Profile::Linux),
                Some("freebsd") => Some(Profile::FreeBsd),
                _ => None,
            })
    }

    /// The `TCPI_*` name a script uses for `state`: Linux's `TCP_*` state
    /// names (include/net/tcp_states.h) or FreeBSD's `TCPS_*` ones
    /// (netinet/tcp_fsm.h).
    pub fn tcpi_state(self, state: State) -> &'static str {
        let freebsd = self == Profile::FreeBsd;
        match state {
            State::Closed if freebsd => "TCPI_CLOSED",
            State::Closed => "TCPI_CLOSE",
            State::Listen => "TCPI_LISTEN",
            State::SynSent => "TCPI_SYN_SENT",
            State::SynReceived if freebsd => "TCPI_SYN_RECEIVED",
            State::SynReceived => "TCPI_SYN_RECV",
            State::Established => "TCPI_ESTABLISHED",
            State::FinWait1 if freebsd => "TCPI_FIN_WAIT_1",
            State::FinWait1 => "TCPI_FIN_WAIT1",
            State::FinWait2 if freebsd => "TCPI_FIN_WAIT_2",
            State::FinWait2 => "TCPI_FIN_WAIT2",
            State::CloseWait => "TCPI_CLOSE_WAIT",
            State::Closing => "TCPI_CLOSING",
            State::LastAck => "TCPI_LAST_ACK",
            State::TimeWait => "TCPI_TIME_WAIT",
        }
    }

    /// `fcntl(F_GETFL)`'s O_NONBLOCK bit on the upstream OS.
    pub fn o_nonblock(self) -> i64 {
        match self {
            Profile::Linux => 0o4000,
            Profile::FreeBsd => 0x4,
        }
    }
}

/// The tunables a script can see or change, in the upstream OS's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Knobs {
    pub profile: Profile,
    /// RFC 7323 window scaling and timestamps (FreeBSD rfc1323).
    pub window_scaling: bool,
    pub timestamps: bool,
    pub sack: bool,
    /// Default receive and send buffer (recvspace / sendspace; tcp_rmem[1]
    /// and tcp_wmem[1] on Linux).
    pub recvspace: usize,
    pub sendspace: usize,
    /// The largest receive buffer, from which the window scale shift is
    /// derived (kern.ipc.maxsockbuf; tcp_rmem[2] on Linux).
    pub maxsockbuf: usize,
    pub delayed_ack: Duration,
    pub initial_rto: Duration,
    pub min_rto: Duration,
    pub keepalive: Keepalive,
    /// Connection-setup limit (FreeBSD keepinit).
    pub keepinit: Duration,
    /// RFC 793 RST / SYN handling instead of RFC 5961's (FreeBSD).
    pub insecure_rst: bool,
    pub insecure_syn: bool,
    /// Round SO_RCVBUF up to a multiple of the MSS once connected
    /// (FreeBSD: 65536 becomes 65700 with an MSS of 1460).
    pub rcvbuf_round_to_mss: bool,
}

impl Knobs {
    pub fn new(profile: Profile) -> Knobs {
        match profile {
            // gtests/net/common/defaults.sh.
            Profile::Linux => Knobs {
                profile,
                window_scaling: true,
                timestamps: true,
                sack: true,
                recvspace: 540_000,
                sendspace: 256 * 1024,
                // tcp_rmem[2] = 15 MiB: shift 8.
                maxsockbuf: 15 * 1024 * 1024,
                delayed_ack: Duration::from_millis(40),
                initial_rto: Duration::from_secs(1),
                min_rto: Duration::from_millis(200),
                keepalive: Keepalive {
                    idle: Duration::from_secs(7200),
                    interval: Duration::from_secs(75),
                    count: 9,
                },
                keepinit: Duration::from_secs(75),
                insecure_rst: false,
                insecure_syn: false,
                rcvbuf_round_to_mss: false,
            },
            Profile::FreeBsd => Knobs {
                profile,
                window_scaling: true,
                timestamps: true,
                sack: true,
                recvspace: 65536,
                sendspace: 32768,
                maxsockbuf: 2 * 1024 * 1024,
                delayed_ack: Duration::from_millis(40),
                initial_rto: Duration::from_secs(1),
                min_rto: Duration::from_millis(200),
                keepalive: Keepalive {
                    idle: Duration::from_secs(7200),
                    interval: Duration::from_secs(75),
                    count: 8,
                },
                keepinit: Duration::from_secs(75),
                insecure_rst: false,
                insecure_syn: false,
                rcvbuf_round_to_mss: true,
            },
        }
    }

    /// The TCP settings a new socket starts with.
    pub fn tcp_config(&self) -> Config {
        let mut c = Config {
            window_scaling: self.window_scaling,
            timestamps: self.timestamps,
            sack: self.sack,
            // synack derives the shift it offers from the buffer (RFC 7323
            // §2.3); both OSes derive it from the largest buffer allowed.
            // FreeBSD's buffer is set to its default once connected.
            recv_buffer: self.maxsockbuf.max(self.recvspace),
            send_buffer: self.sendspace,
            delayed_ack: self.delayed_ack,
            initial_rto: self.initial_rto,
            min_rto: self.min_rto,
            max_rto: Duration::from_secs(120),
            initial_window: 10,
            ..Config::default()
        };
        match self.profile {
            Profile::Linux => {
                c.congestion = Algorithm::Cubic;
                c.syn_retries = 5;
                c.synack_retries = 5;
                // TIME-WAIT lasts 60 s (TCP_TIMEWAIT_LEN).
                c.msl = Duration::from_secs(30);
            }
            Profile::FreeBsd => {
                c.congestion = Algorithm::NewReno;
                // tcp_addoptions: `mss,nop,wscale,sackOK,TS`, EOL padding.
                c.option_layout = OptionLayout::FreeBsd;
                c.hystart = false;
                c.rack = false;
                // TCP_MAXRXTSHIFT, and TCPTV_REXMTMAX (64 s).
                c.syn_retries = 12;
                c.max_rto = Duration::from_secs(64);
                c.synack_retries = 3;
                // net.inet.tcp.msl = 30 s.
                c.msl = Duration::from_secs(30);
                c.setup_timeout = Some(self.keepinit);
                // tcp_input's delayed ACK: no quick-ACK mode, an ACK for
                // every second segment; tcp_output's window and FIN.
                c.quick_ack = false;
                c.ack_every = AckEvery::TwoSegments;
                c.receiver_sws = ReceiverSws::SmallWindow;
                c.fin_on_every_ack = true;
            }
        }
        c
    }

    /// SO_RCVBUF as the application reads it: what it set, or the
    /// default.
    pub fn rcvbuf(&self, set: Option<usize>, connected_mss: Option<u16>) -> usize {
        let size = set.unwrap_or(self.recvspace);
        match connected_mss {
            Some(mss) if self.rcvbuf_round_to_mss && mss > 0 => {
                let m = usize::from(mss);
                size.div_ceil(m) * m
            }
            _ => size,
        }
    }

    /// The buffer a `setsockopt(SO_SNDBUF / SO_RCVBUF, v)` gives: Linux
    /// doubles the value (for its bookkeeping overhead) and has a floor
    /// (SOCK_MIN_SNDBUF, 4608); FreeBSD takes it as it is.
    pub fn sockbuf(&self, value: i64) -> usize {
        let v = value.max(0) as usize;
        match self.profile {
            Profile::Linux => (2 * v).max(4608),
            Profile::FreeBsd => v.max(1),
        }
    }

    /// Applies `sysctl -w name=value`. `Ok(true)`: applied; `Ok(false)`:
    /// a knob that matches what synack does anyway; `Err`: unknown or a
    /// value synack cannot model.
    pub fn apply_sysctl(&mut self, name: &str, value: &str) -> Result<bool, String> {
        let num = value.trim().parse::<u64>().ok();
        let want = |n: Option<u64>| n.ok_or_else(|| format!("bad value `{value}` for {name}"));
        let ms = |n: u64| Duration::from_millis(n);
        match name {
            "net.inet.tcp.rfc1323" => {
                let on = want(num)? != 0;
                self.window_scaling = on;
                self.timestamps = on;
            }
            "net.inet.tcp.sack.enable" => self.sack = want(num)? != 0,
            "net.inet.tcp.recvspace" => self.recvspace = want(num)? as usize,
            "net.inet.tcp.sendspace" => self.sendspace = want(num)? as usize,
            "kern.ipc.maxsockbuf" => self.maxsockbuf = want(num)? as usize,
            "net.inet.tcp.delacktime" => self.delayed_ack = ms(want(num)?),
            "net.inet.tcp.rexmit_initial" => self.initial_rto = ms(want(num)?),
            "net.inet.tcp.keepidle" => self.keepalive.idle = ms(want(num)?),
            "net.inet.tcp.keepintvl" => self.keepalive.interval = ms(want(num)?),
            "net.inet.tcp.keepcnt" => self.keepalive.count = want(num)? as u32,
            "net.inet.tcp.keepinit" => self.keepinit = ms(want(num)?),
            "net.inet.tcp.insecure_rst" => {
                self.insecure_rst = want(num)? != 0;
                if self.insecure_rst {
                    return Err(
                        "insecure_rst=1 (RFC 793 RST handling; synack implements RFC 5961 §3 only)"
                            .into(),
                    );
                }
            }
            "net.inet.tcp.insecure_syn" => {
                self.insecure_syn = want(num)? != 0;
                if self.insecure_syn {
                    return Err(
                        "insecure_syn=1 (RFC 793 SYN handling; synack implements RFC 5961 §4 only)"
                            .into(),
                    );
                }
            }
            // Settings whose default synack already follows: RSTs are
            // sent (blackhole 0), no ECN is requested, no host cache, the
            // retransmission options are kept, SYN cookies on overflow.
            "net.inet.tcp.blackhole"
            | "net.inet.tcp.ecn.enable"
            | "net.inet.tcp.hostcache.purgenow"
            | "net.inet.tcp.rexmit_slop"
            | "net.inet.tcp.rexmit_drop_options"
            | "net.inet.tcp.syncookies"
            | "net.inet.tcp.syncookies_only" => return Ok(false),
            _ => return Err(format!("unknown sysctl {name}")),
        }
        Ok(true)
    }
}

/// The host: one address per family, a default route, the link MTU.
pub fn host_config(profile: Profile, v6: bool, mtu: Option<usize>) -> HostConfig {
    let mut h = HostConfig::new(local_ip(v6));
    h.mtu = mtu.unwrap_or(1500);
    h.tcp = Knobs::new(profile).tcp_config();
    h.syncookies = true;
    h
}

/// synack's address (packetdrill's local address).
pub fn local_ip(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(
            "fd3d:fa7b:d17d::1"
                .parse()
                .unwrap_or(std::net::Ipv6Addr::LOCALHOST),
        )
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(192, 168, 0, 1))
    }
}

/// The script's peer (packetdrill's remote address).
pub fn remote_ip(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(
            "fd3d:fa7b:d17d:8888::2"
                .parse()
                .unwrap_or(std::net::Ipv6Addr::LOCALHOST),
        )
    } else {
        IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1))
    }
}
