//! `cargo bench -p synack-bench`: synack beside smoltcp 0.14, Linux
//! loopback TCP and memcpy, in one run on one machine, with ratios.
//!
//! `-- --quick` runs every case once at a tiny size (CI does, to prove the
//! harness works; its figures mean nothing). `-- --only bulk|rate|memory`
//! prints one table; `-- --only synack|smoltcp` runs one stack's bulk
//! transfers and connections alone, for a profiler (`--mtu N` and
//! `--no-checksums` narrow that to one bulk run).
#![forbid(unsafe_code)]

use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{ChecksumCapabilities, Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, Ipv4Address};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::time::Instant as WallClock;
use synack_bench::report::{figure, ratio, Table};
use synack_bench::wire::{End, Packet, Wire};
use synack_bench::{check_pattern, chunk, linux, median, synack, Bulk, Rate, Sizes};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes and blocks the allocator has handed out and not had back.
fn in_use() -> (i64, i64) {
    let s = GLOBAL.stats();
    (
        s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64,
        s.allocations as i64 - s.deallocations as i64,
    )
}

/// What an idle endpoint holds: bytes, and heap blocks.
#[derive(Copy, Clone)]
struct Held {
    bytes: f64,
    blocks: f64,
}

impl Held {
    fn since(before: (i64, i64), endpoints: usize) -> Held {
        let now = in_use();
        Held {
            bytes: (now.0 - before.0) as f64 / endpoints as f64,
            blocks: (now.1 - before.1) as f64 / endpoints as f64,
        }
    }
}

/// smoltcp's side: two interfaces on the same [`Wire`] as synack's hosts.
mod smol {
    use super::*;

    const A: Ipv4Address = Ipv4Address::new(10, 77, 0, 1);
    const B: Ipv4Address = Ipv4Address::new(10, 77, 0, 2);

    /// One end of the wire as a smoltcp device.
    pub struct Port<'w> {
        wire: &'w Wire,
        end: End,
        caps: DeviceCapabilities,
    }

    pub struct Rx<'w> {
        packet: Packet,
        wire: &'w Wire,
    }

    pub struct Tx<'w> {
        wire: &'w Wire,
        end: End,
    }

    impl RxToken for Rx<'_> {
        fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
            let r = f(self.packet.bytes());
            self.wire.recycle(self.packet.buf);
            r
        }
    }

    impl TxToken for Tx<'_> {
        fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
            let mut buf = self.wire.buffer();
            let r = f(&mut buf[..len]);
            self.wire.send(self.end, buf, len);
            r
        }
    }

    impl Device for Port<'_> {
        type RxToken<'a>
            = Rx<'a>
        where
            Self: 'a;
        type TxToken<'a>
            = Tx<'a>
        where
            Self: 'a;

        fn receive(&mut self, _: SmolInstant) -> Option<(Rx<'_>, Tx<'_>)> {
            let packet = self.wire.recv(self.end)?;
            let (wire, end) = (self.wire, self.end);
            Some((Rx { packet, wire }, Tx { wire, end }))
        }

        fn transmit(&mut self, _: SmolInstant) -> Option<Tx<'_>> {
            Some(Tx {
                wire: self.wire,
                end: self.end,
            })
        }

        fn capabilities(&self) -> DeviceCapabilities {
            self.caps.clone()
        }
    }

    /// Two interfaces, their socket sets and their ports on one wire.
    pub struct Pair<'w> {
        pub a: Interface,
        pub b: Interface,
        pub sa: SocketSet<'static>,
        pub sb: SocketSet<'static>,
        pa: Port<'w>,
        pb: Port<'w>,
        start: WallClock,
    }

    impl<'w> Pair<'w> {
        pub fn new(wire: &'w Wire, checksums: bool) -> Pair<'w> {
            let mut caps = DeviceCapabilities::default();
            caps.medium = Medium::Ip;
            caps.max_transmission_unit = wire.mtu();
            if !checksums {
                caps.checksum = ChecksumCapabilities::ignored();
            }
            let start = WallClock::now();
            let mut pa = Port {
                wire,
                end: End::A,
                caps: caps.clone(),
            };
            let mut pb = Port {
                wire,
                end: End::B,
                caps,
            };
            let iface = |port: &mut Port, addr: Ipv4Address, seed| {
                let mut cfg = IfaceConfig::new(HardwareAddress::Ip);
                cfg.random_seed = seed;
                let mut i = Interface::new(cfg, port, SmolInstant::ZERO);
                i.update_ip_addrs(|a| {
                    a.push(IpCidr::new(IpAddress::Ipv4(addr), 24)).unwrap();
                });
                i
            };
            Pair {
                a: iface(&mut pa, A, 1),
                b: iface(&mut pb, B, 2),
                sa: SocketSet::new(Vec::new()),
                sb: SocketSet::new(Vec::new()),
                pa,
                pb,
                start,
            }
        }

        pub fn now(&self) -> SmolInstant {
            SmolInstant::from_micros(self.start.elapsed().as_micros() as i64)
        }

        /// A takes in what B sent and sends; then B does.
        pub fn pump(&mut self) {
            let now = self.now();
            self.a.poll(now, &mut self.pa, &mut self.sa);
            self.b.poll(now, &mut self.pb, &mut self.sb);
        }

        pub fn listen(&mut self, port: u16, buffers: usize) -> SocketHandle {
            let mut s = socket(buffers);
            s.listen(port).expect("a fresh socket listens");
            self.sb.add(s)
        }

        pub fn connect(&mut self, port: u16, local: u16, buffers: usize) -> SocketHandle {
            let mut s = socket(buffers);
            s.connect(self.a.context(), (IpAddress::Ipv4(B), port), local)
                .expect("a fresh socket connects");
            self.sa.add(s)
        }
    }

    fn socket(buffers: usize) -> tcp::Socket<'static> {
        tcp::Socket::new(
            tcp::SocketBuffer::new(vec![0; buffers]),
            tcp::SocketBuffer::new(vec![0; buffers]),
        )
    }

    pub fn bulk(bytes: u64, mtu: usize, checksums: bool) -> Result<Bulk, String> {
        let wire = Wire::new(mtu);
        let mut p = Pair::new(&wire, checksums);
        let server = p.listen(9, 1 << 20);
        let start = WallClock::now();
        let client = p.connect(9, 49152, 1 << 20);
        let data = chunk();
        let mut inbuf = vec![0u8; 65536];
        let (mut sent, mut received) = (0u64, 0u64);
        let mut closed = false;
        let mut idle_rounds = 0;
        loop {
            let c = p.sa.get_mut::<tcp::Socket>(client);
            while sent < bytes && c.can_send() {
                let from = (sent % data.len() as u64) as usize;
                let want = ((bytes - sent) as usize).min(data.len() - from);
                match c.send_slice(&data[from..from + want]) {
                    Ok(n) if n > 0 => sent += n as u64,
                    _ => break,
                }
            }
            if sent == bytes && !closed {
                c.close();
                closed = true;
            }
            let s = p.sb.get_mut::<tcp::Socket>(server);
            loop {
                match s.recv_slice(&mut inbuf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if !check_pattern(received, &inbuf[..n]) {
                            return Err(format!("smoltcp: wrong bytes at offset {received}"));
                        }
                        received += n as u64;
                    }
                    Err(tcp::RecvError::Finished) => {
                        if received != bytes {
                            return Err(format!("smoltcp: end after {received} of {bytes}"));
                        }
                        return Ok(Bulk {
                            bytes,
                            elapsed: start.elapsed(),
                            packets: wire.packets(),
                        });
                    }
                    // Still listening, or in SYN-RECEIVED.
                    Err(tcp::RecvError::InvalidState) => break,
                }
            }
            let before = wire.packets();
            p.pump();
            idle_rounds = if wire.packets() == before {
                idle_rounds + 1
            } else {
                0
            };
            if idle_rounds > 10_000_000 {
                return Err(format!("smoltcp: stalled at {received} of {bytes} bytes"));
            }
        }
    }

    /// As `synack::rate`: one byte, the server closes, then the client.
    pub fn rate(n: usize) -> Result<Rate, String> {
        let wire = Wire::new(1500);
        let mut p = Pair::new(&wire, true);
        let mut byte = [0u8; 16];
        let start = WallClock::now();
        for i in 0..n {
            let port = 9 + (i / synack::PER_PORT) as u16;
            let server = p.listen(port, 4096);
            let client = p.connect(port, 49152 + (i % 16384) as u16, 4096);
            let (mut wrote, mut server_done, mut client_done) = (false, false, false);
            let mut rounds = 0;
            while !(client_done && wire.is_idle()) {
                rounds += 1;
                if rounds > 1_000_000 {
                    return Err(format!("smoltcp: connection {i} never finished"));
                }
                let c = p.sa.get_mut::<tcp::Socket>(client);
                if !wrote && c.can_send() {
                    wrote = c.send_slice(b"x") == Ok(1);
                }
                let s = p.sb.get_mut::<tcp::Socket>(server);
                if !server_done && s.recv_slice(&mut byte) == Ok(1) {
                    s.close();
                    server_done = true;
                }
                let c = p.sa.get_mut::<tcp::Socket>(client);
                if server_done
                    && !client_done
                    && c.recv_slice(&mut byte) == Err(tcp::RecvError::Finished)
                {
                    c.close();
                    client_done = true;
                }
                p.pump();
            }
            p.sa.remove(client);
            p.sb.remove(server);
        }
        Ok(Rate {
            connections: n,
            elapsed: start.elapsed(),
        })
    }

    /// Connections opened at once while counting idle memory.
    const BATCH: usize = 1000;

    /// `n` idle established connections with 4 KiB buffers each way;
    /// returns the bytes in use per endpoint.
    pub fn idle(n: usize) -> Result<Held, String> {
        let before = in_use();
        let wire = Wire::new(1500);
        let mut p = Pair::new(&wire, true);
        let mut clients = Vec::with_capacity(n);
        let mut opened = 0;
        while opened < n {
            let end = (opened + BATCH).min(n);
            for i in opened..end {
                let port = 9 + (i / synack::PER_PORT) as u16;
                p.listen(port, 4096);
                clients.push(p.connect(port, 1024 + (i % synack::PER_PORT) as u16, 4096));
            }
            let mut rounds = 0;
            while !clients[opened..end]
                .iter()
                .all(|&h| p.sa.get::<tcp::Socket>(h).state() == tcp::State::Established)
            {
                p.pump();
                rounds += 1;
                if rounds > 10_000 {
                    return Err(format!("smoltcp: connections {opened}..{end} never opened"));
                }
            }
            while !wire.is_idle() {
                p.pump();
            }
            opened = end;
        }
        let per = Held::since(before, 2 * n);
        drop(p);
        Ok(per)
    }
}

/// The most idle connections smoltcp is asked to open.
const SMOLTCP_IDLE: usize = 10_000;

/// synack's idle connections, counted the same way.
fn synack_idle(n: usize) -> Result<Held, String> {
    let before = in_use();
    let (p, handles) = synack::idle(n)?;
    let per = Held::since(before, handles.len());
    drop(p);
    Ok(per)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {cores} cores")
}

fn gbit(b: &Bulk) -> String {
    figure(b.gbit_per_s(), "Gbit/s")
}

/// The median run of `runs`, each run of every contender interleaved with
/// the others' so that a slow moment of the machine hits them all.
fn bulk_case(
    t: &mut Table,
    label: &str,
    sizes: Sizes,
    mut contenders: Vec<Box<dyn FnMut() -> Result<Bulk, String> + '_>>,
) -> Result<Vec<Bulk>, String> {
    let mut times = vec![Vec::new(); contenders.len()];
    for _ in 0..sizes.bulk_runs {
        for (i, run) in contenders.iter_mut().enumerate() {
            times[i].push(run()?.elapsed);
        }
    }
    let results: Vec<Bulk> = times
        .into_iter()
        .map(|ts| Bulk {
            bytes: sizes.bulk_bytes,
            elapsed: median(ts),
            packets: 0,
        })
        .collect();
    let mut row = vec![label.to_string()];
    row.extend(results.iter().map(gbit));
    while row.len() < 5 {
        row.push("—".into());
    }
    row.push(ratio(results[0].gbit_per_s(), results[1].gbit_per_s()));
    t.row(row);
    Ok(results)
}

/// Which tables to print.
#[derive(Copy, Clone, PartialEq, Eq)]
enum Only {
    All,
    Bulk,
    Rate,
    Memory,
    /// One stack's bulk runs alone, for a profiler.
    Alone(Stack),
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum Stack {
    Synack,
    Smoltcp,
}

/// Settings of a run of one stack alone (`--only synack|smoltcp`).
#[derive(Copy, Clone)]
struct Alone {
    /// Only this MTU's bulk run, and no connection-rate run.
    mtu: Option<usize>,
    checksums: bool,
}

fn run(sizes: Sizes, only: Only, alone: Alone) -> Result<(), String> {
    if matches!(only, Only::All | Only::Bulk) {
        bulk_table(sizes)?;
    }
    if matches!(only, Only::All | Only::Rate) {
        rate_table(sizes)?;
    }
    if matches!(only, Only::All | Only::Memory) {
        memory_table(sizes)?;
    }
    if let Only::Alone(stack) = only {
        let mtus = match alone.mtu {
            Some(mtu) => vec![mtu],
            None => vec![1500, 65535],
        };
        for mtu in mtus {
            let b = sizes.bulk_bytes;
            let r = match stack {
                Stack::Synack => synack::bulk(b, mtu, alone.checksums)?,
                Stack::Smoltcp => smol::bulk(b, mtu, alone.checksums)?,
            };
            println!(
                "MTU {mtu}: {} in {:?}, {} packets",
                gbit(&r),
                r.elapsed,
                r.packets
            );
        }
        if alone.mtu.is_some() {
            return Ok(());
        }
        let n = sizes.connections;
        let r = match stack {
            Stack::Synack => synack::rate(n)?,
            Stack::Smoltcp => smol::rate(n)?,
        };
        println!("{n} connections: {}", figure(r.per_second(), "/s"));
    }
    Ok(())
}

fn bulk_table(sizes: Sizes) -> Result<(), String> {
    let b = sizes.bulk_bytes;
    println!("synack-bench compare: {}", machine());
    println!(
        "bulk: {} MiB one way, median of {} runs, 1 MiB buffers, 64 KiB application writes and reads; \
         both stacks over the same in-memory wire of recycled buffers",
        b >> 20,
        sizes.bulk_runs
    );
    println!();
    let mut t = Table::new(&[
        "bulk",
        "synack",
        "smoltcp 0.14",
        "Linux loopback",
        "memcpy",
        "synack ÷ smoltcp",
    ]);
    for mtu in [1500, 65535] {
        bulk_case(
            &mut t,
            &format!("MTU {mtu}, checksums computed"),
            sizes,
            vec![
                Box::new(move || synack::bulk(b, mtu, true)),
                Box::new(move || smol::bulk(b, mtu, true)),
                Box::new(move || linux::bulk(b)),
                Box::new(move || Ok(linux::memcpy(b))),
            ],
        )?;
        bulk_case(
            &mut t,
            &format!("MTU {mtu}, checksums off on both"),
            sizes,
            vec![
                Box::new(move || synack::bulk(b, mtu, false)),
                Box::new(move || smol::bulk(b, mtu, false)),
            ],
        )?;
    }
    println!("{}", t.markdown());
    Ok(())
}

fn rate_table(sizes: Sizes) -> Result<(), String> {
    let n = sizes.connections;
    println!("connection rate: {n} connections one after another: open, 1 byte, server closes, client closes");
    println!();
    let mut t = Table::new(&[
        "",
        "synack",
        "smoltcp 0.14",
        "Linux loopback",
        "synack ÷ smoltcp",
    ]);
    let rates: Vec<Rate> = vec![synack::rate(n)?, smol::rate(n)?, linux::rate(n)?];
    let mut row = vec!["connections/s".to_string()];
    row.extend(rates.iter().map(|r| figure(r.per_second(), "/s")));
    row.push(ratio(rates[0].per_second(), rates[1].per_second()));
    t.row(row);
    println!("{}", t.markdown());
    Ok(())
}

fn memory_table(sizes: Sizes) -> Result<(), String> {
    let n = sizes.idle;
    println!(
        "memory: {n} idle established connections (both ends in this process), 4 KiB buffers each way; \
         bytes in use per endpoint, as the allocator counts them"
    );
    println!();
    let ours = synack_idle(n)?;
    // smoltcp finds a packet's socket by walking all of them, so opening
    // n connections costs it n² steps (100,000 took nine minutes here);
    // what a socket holds does not depend on how many there are, so it is
    // counted over fewer.
    let smol_n = n.min(SMOLTCP_IDLE);
    let theirs = smol::idle(smol_n)?;
    if smol_n < n {
        println!("(smoltcp counted over {smol_n} connections: it finds sockets by a linear search, so opening {n} takes minutes; its per-socket memory does not depend on the count)");
        println!();
    }
    let mut t = Table::new(&["", "synack", "smoltcp 0.14", "synack ÷ smoltcp"]);
    t.row(vec![
        "bytes per idle endpoint".into(),
        format!("{:.0}", ours.bytes),
        format!("{:.0}", theirs.bytes),
        ratio(ours.bytes, theirs.bytes),
    ]);
    // synack allocates a buffer at its first byte; smoltcp's are the
    // caller's, allocated up front.
    t.row(vec![
        "of which buffers".into(),
        "0".into(),
        "8192".into(),
        "—".into(),
    ]);
    t.row(vec![
        "heap blocks per idle endpoint".into(),
        format!("{:.2}", ours.blocks),
        format!("{:.2}", theirs.blocks),
        "—".into(),
    ]);
    let four_gib = 4.0 * (1u64 << 30) as f64;
    t.row(vec![
        "idle endpoints in 4 GiB".into(),
        format!("{:.0}", four_gib / ours.bytes),
        format!("{:.0}", four_gib / theirs.bytes),
        ratio(theirs.bytes, ours.bytes),
    ]);
    println!("{}", t.markdown());
    Ok(())
}

const USAGE: &str = "usage: cargo bench -p synack-bench -- [--quick] [--only bulk|rate|memory|synack|smoltcp] [--bulk-mib N] [--connections N] [--mtu N] [--no-checksums]";

fn main() {
    let mut sizes = Sizes::FULL;
    let mut only = Only::All;
    let mut alone = Alone {
        mtu: None,
        checksums: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => sizes = Sizes::QUICK,
            // `cargo bench` passes it.
            "--bench" => {}
            "--only" => {
                only = match args.next().as_deref() {
                    Some("bulk") => Only::Bulk,
                    Some("rate") => Only::Rate,
                    Some("memory") => Only::Memory,
                    Some("synack") => Only::Alone(Stack::Synack),
                    Some("smoltcp") => Only::Alone(Stack::Smoltcp),
                    _ => usage_error("--only takes bulk, rate, memory, synack or smoltcp"),
                }
            }
            "--bulk-mib" => match args.next().and_then(|n| n.parse::<u64>().ok()) {
                Some(n) if n > 0 => sizes.bulk_bytes = n << 20,
                _ => usage_error("--bulk-mib takes a whole number of MiB above 0"),
            },
            // With --only synack|smoltcp: one bulk run at this MTU, for a profiler.
            "--mtu" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if (576..=65535).contains(&n) => alone.mtu = Some(n),
                _ => usage_error("--mtu takes a number from 576 to 65535"),
            },
            "--no-checksums" => alone.checksums = false,
            "--connections" => match args.next().and_then(|n| n.parse::<usize>().ok()) {
                Some(n) if n > 0 => sizes.connections = n,
                _ => usage_error("--connections takes a whole number above 0"),
            },
            other => usage_error(&format!("unknown argument {other:?}")),
        }
    }
    let started = WallClock::now();
    if let Err(e) = run(sizes, only, alone) {
        eprintln!("synack-bench compare: {e}");
        std::process::exit(1);
    }
    println!("({:.0} s in all)", started.elapsed().as_secs_f64());
}

fn usage_error(what: &str) -> ! {
    eprintln!("synack-bench compare: {what}\n{USAGE}");
    std::process::exit(2);
}
