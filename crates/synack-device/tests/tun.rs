//! `TunDevice` against the real kernel: `ping` from inside a network
//! namespace made for the test, answered through the TUN by hand-built
//! echo replies, over IPv4 and IPv6.
//!
//! Needs root, `/dev/net/tun`, iproute2 (`ip netns`) and `ping`. Without
//! them the test says why and passes, unless `SYNACK_REQUIRE_NETNS=1`, when
//! it fails instead (CI sets it, so a missing tool cannot hide).
//!
//! Everything the test makes lives in its own namespace: the TUN is moved
//! there before it gets an address, and the addresses pinged are on that
//! TUN. A guard deletes the namespace (and with it the TUN) and kills
//! `ping` however the test ends.
#![cfg(target_os = "linux")]

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant as StdInstant};

use synack_device::{wait_readable, Device, TunDevice};
use synack_time::Instant;
use synack_wire::{Icmpv4Repr, Icmpv6Repr, IpProtocol, IpRepr};

/// The kernel's address on the TUN, and the peer it pings (our side).
const KERNEL_V4: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 1);
const PEER_V4: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 2);
const KERNEL_V6: Ipv6Addr = Ipv6Addr::new(0xfd77, 1, 0, 0, 0, 0, 0, 1);
const PEER_V6: Ipv6Addr = Ipv6Addr::new(0xfd77, 1, 0, 0, 0, 0, 0, 2);

/// How long one `ping` run may take in real time.
const PING_LIMIT: Duration = Duration::from_secs(10);

/// A namespace the test made, and the processes it runs there. Dropping
/// it kills the processes and deletes the namespace, which deletes the TUN
/// inside it.
struct Netns {
    name: String,
    children: Vec<Child>,
}

impl Netns {
    fn create(name: &str) -> Result<Netns, String> {
        // A namespace left by an earlier run that was killed (same pid).
        let _ = Command::new("ip")
            .args(["netns", "del", name])
            .stderr(Stdio::null())
            .status();
        let out = Command::new("ip")
            .args(["netns", "add", name])
            .output()
            .map_err(|e| format!("cannot run `ip netns add`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`ip netns add {name}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Netns {
            name: name.to_owned(),
            children: Vec::new(),
        })
    }

    /// Starts `command` inside the namespace; returns its index.
    fn spawn(&mut self, command: &[&str]) -> usize {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ip netns exec");
        self.children.push(child);
        self.children.len() - 1
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deleted = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        if !deleted.is_ok_and(|s| s.success()) {
            eprintln!("warning: could not delete network namespace {}", self.name);
        }
    }
}

/// Why this machine cannot run the test, if it cannot.
fn missing_requirement() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // "Uid: real effective saved fs"
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("not running as root".into());
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Some("/dev/net/tun does not exist".into());
    }
    for (tool, args) in [("ip", ["-V"]), ("ping", ["-V"])] {
        let ran = Command::new(tool)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !ran.is_ok_and(|s| s.success()) {
            return Some(format!("`{tool}` is not installed"));
        }
    }
    None
}

/// Skips (prints why) or, with `SYNACK_REQUIRE_NETNS=1`, fails.
fn skip(why: &str) {
    if std::env::var("SYNACK_REQUIRE_NETNS").as_deref() == Ok("1") {
        panic!("SYNACK_REQUIRE_NETNS=1 but the TUN test cannot run: {why}");
    }
    eprintln!("skipping the TUN test: {why} (SYNACK_REQUIRE_NETNS=1 makes this a failure)");
}

/// The echo reply to `packet` if it is an echo request to one of our
/// peer addresses.
fn echo_reply(packet: &[u8]) -> Option<Vec<u8>> {
    let (ip, payload) = IpRepr::parse(packet).ok()?;
    match (ip.src(), ip.dst(), ip.protocol()) {
        (IpAddr::V4(_), IpAddr::V4(dst), IpProtocol::Icmp) if dst == PEER_V4 => {
            let Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } = Icmpv4Repr::parse(payload).ok()?
            else {
                return None;
            };
            let icmp = Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            let reply = IpRepr::new(ip.dst(), ip.src(), IpProtocol::Icmp, icmp.buffer_len(), 64);
            let mut out = vec![0; reply.total_len()];
            reply.emit(&mut out);
            icmp.emit(&mut out[reply.header_len()..]);
            Some(out)
        }
        (IpAddr::V6(src), IpAddr::V6(dst), IpProtocol::Icmpv6) if dst == PEER_V6 => {
            let Icmpv6Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } = Icmpv6Repr::parse(payload, src, dst).ok()?
            else {
                return None;
            };
            let icmp = Icmpv6Repr::EchoReply {
                ident,
                seq_no,
                data,
            };
            let reply = IpRepr::new(
                ip.dst(),
                ip.src(),
                IpProtocol::Icmpv6,
                icmp.buffer_len(),
                64,
            );
            let mut out = vec![0; reply.total_len()];
            reply.emit(&mut out);
            // RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header.
            icmp.emit(&mut out[reply.header_len()..], dst, src);
            Some(out)
        }
        _ => None,
    }
}

/// Runs `ping args...` in the namespace while answering its echo requests
/// through `tun`; returns whether ping succeeded, its output, and how many
/// replies were sent.
fn ping_through(
    tun: &mut TunDevice,
    ns: &mut Netns,
    args: &[&str],
    epoch: StdInstant,
) -> (bool, String, usize) {
    let mut command = vec!["ping"];
    command.extend_from_slice(args);
    let i = ns.spawn(&command);
    let deadline = StdInstant::now() + PING_LIMIT;
    let mut replies_sent = 0;
    let status = loop {
        if let Some(status) = ns.children[i].try_wait().expect("wait for ping") {
            break status;
        }
        assert!(
            StdInstant::now() < deadline,
            "`ping {}` still running after {PING_LIMIT:?}",
            args.join(" ")
        );
        let ready = wait_readable(&[tun.as_fd()], Some(Duration::from_millis(50))).unwrap();
        if !ready[0] {
            continue;
        }
        let now = Instant::from_micros(epoch.elapsed().as_micros() as u64);
        let mut replies = Vec::new();
        tun.receive(now, &mut |p| replies.extend(echo_reply(p)))
            .unwrap();
        for reply in replies {
            let sent = tun
                .transmit(now, &mut |buf| {
                    buf[..reply.len()].copy_from_slice(&reply);
                    Some(reply.len())
                })
                .unwrap();
            assert!(sent);
            replies_sent += 1;
        }
    };
    let mut output = String::new();
    let child = &mut ns.children[i];
    for pipe in [
        child.stdout.take().map(|p| Box::new(p) as Box<dyn Read>),
        child.stderr.take().map(|p| Box::new(p) as Box<dyn Read>),
    ]
    .into_iter()
    .flatten()
    {
        let mut pipe = pipe;
        let _ = pipe.read_to_string(&mut output);
    }
    (status.success(), output, replies_sent)
}

#[test]
fn ping_is_answered_through_a_tun_in_a_netns() {
    if let Some(why) = missing_requirement() {
        skip(&why);
        return;
    }
    let pid = std::process::id();
    let ns_name = format!("synack-tun-{pid}");
    let tun_name = format!("sktun{pid}");
    // Declared first, dropped last: after the TUN's descriptor is closed.
    let mut ns = match Netns::create(&ns_name) {
        Ok(ns) => ns,
        Err(why) => {
            skip(&why);
            return;
        }
    };
    let epoch = StdInstant::now();

    let mut tun = TunDevice::open(&tun_name, 1500).expect("open the TUN");
    assert_eq!(tun.name(), tun_name);
    assert_eq!(tun.mtu(), 1500);
    assert_eq!(tun.caps().max_batch, 64);
    // Linux has taken TUNSETOFFLOAD since 2.6.27; where the tests must run,
    // the offloads must be on (the device vouches for checksums only then).
    if std::env::var("SYNACK_REQUIRE_NETNS").as_deref() == Ok("1") {
        assert!(tun.offloads(), "the kernel refused TUN offloads");
    }
    assert_eq!(tun.caps().rx_checksums_verified, tun.offloads());
    // Down and unconfigured here: the ioctl path of wait_up says so at once.
    let err = tun.wait_up(Duration::ZERO).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    // Into the namespace before anything is configured on it.
    tun.move_to_netns(&ns.name).expect("move the TUN");
    assert_eq!(tun.netns(), Some(ns.name.as_str()));
    let seen_here = Command::new("ip")
        .args(["link", "show", "dev", &tun_name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!seen_here.success(), "the TUN left this namespace");

    tun.add_address(KERNEL_V4.into(), 24).unwrap();
    tun.add_address(KERNEL_V6.into(), 64).unwrap();
    tun.add_address(KERNEL_V4.into(), 24)
        .expect("an address already there is not an error");
    let err = tun.wait_up(Duration::from_millis(30)).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    tun.up().unwrap();
    let waited = StdInstant::now();
    tun.wait_up(Duration::from_secs(5))
        .expect("the TUN comes up");
    eprintln!("{tun_name} up in {ns_name} after {:?}", waited.elapsed());

    let (ok, output, replies) = ping_through(
        &mut tun,
        &mut ns,
        &["-c", "3", "-i", "0.2", "-W", "2", &PEER_V4.to_string()],
        epoch,
    );
    assert!(ok, "ping {PEER_V4} failed:\n{output}");
    assert!(replies >= 3, "{replies} replies\n{output}");
    eprintln!("ping {PEER_V4}: {replies} echo replies sent through the TUN");

    let (ok, output, replies) = ping_through(
        &mut tun,
        &mut ns,
        &[
            "-6",
            "-c",
            "3",
            "-i",
            "0.2",
            "-W",
            "2",
            &PEER_V6.to_string(),
        ],
        epoch,
    );
    assert!(ok, "ping -6 {PEER_V6} failed:\n{output}");
    assert!(replies >= 3, "{replies} replies\n{output}");
    eprintln!("ping -6 {PEER_V6}: {replies} echo replies sent through the TUN");

    let stats = tun.stats();
    assert!(stats.packets_in >= 6, "{stats:?}");
    assert!(stats.packets_out >= 6, "{stats:?}");
    assert_eq!(stats.write_drops, 0, "{stats:?}");
    eprintln!("{stats:?}");
}

#[test]
fn bad_interface_names_are_invalid_input() {
    for name in ["", "sixteen-bytes-xx", "a/b", "a b", "tab\there"] {
        let err = TunDevice::open(name, 1500).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}: {err}");
    }
}
