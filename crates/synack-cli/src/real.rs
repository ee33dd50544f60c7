//! The commands that put synack on a real network, through a Linux TUN
//! device: `serve`, `connect`, `get` and `netstat`.
//!
//! Each opens (or attaches to) a TUN device, gives the kernel's side of it
//! an address in synack's prefix, waits until it is up (a SYN sent earlier
//! is dropped and costs a 1 s retransmission), and runs a synack stack
//! over it. `serve` answers on a port (echo, discard, HTTP or HTTPS) until
//! Ctrl-C and publishes its socket table on a control socket that
//! `synack netstat` reads.

use crate::numbers::{between, whole};
use std::io::{self, IsTerminal, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant as WallClock};

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Body as _;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use synack::tun::Tun;
use synack::{Stack, StackConfig};
use synack_device::{ImpairConfig, TunDevice};
use synack_stack::HostConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where synack sits on the TUN link.
#[derive(Args, Debug, Clone)]
pub struct TunArgs {
    /// TUN device to create, or to attach to if it exists
    #[arg(long, value_name = "NAME")]
    tun: String,
    /// synack's address and prefix on the TUN link, e.g. 10.77.0.2/24 (repeat for IPv6)
    #[arg(long = "addr", value_name = "IP/PREFIX", required = true, value_parser = parse_prefix)]
    addrs: Vec<(IpAddr, u8)>,
    /// The kernel's address on the TUN (default: the first other host address of each prefix)
    #[arg(long = "tun-addr", value_name = "IP/PREFIX", value_parser = parse_prefix)]
    tun_addrs: Vec<(IpAddr, u8)>,
    /// MTU of the TUN device
    #[arg(long, value_name = "BYTES", default_value_t = 1500, value_parser = whole::<u64>(1280..=65535), allow_negative_numbers = true)]
    mtu: u64,
    /// Write every packet that crosses the TUN to this pcap file
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Lose this fraction (0 to 0.5) of packets in each direction, in synack's pump
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = between(0.0, 0.5), allow_negative_numbers = true)]
    loss: f64,
    /// Delay every packet by this many milliseconds in each direction, in synack's pump
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = whole::<u64>(0..=10_000), allow_negative_numbers = true)]
    delay: u64,
    /// Hold back this fraction (0 to 0.5) of packets by one extra delay, so later ones overtake
    #[arg(long, value_name = "P", default_value_t = 0.0, value_parser = between(0.0, 0.5), allow_negative_numbers = true)]
    reorder: f64,
    /// Seed of the impairment's decisions (the same seed, the same decisions)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = whole::<u64>(0..=u64::MAX), allow_negative_numbers = true)]
    seed: u64,
    /// SYN retransmissions before a connection attempt times out
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = whole::<u32>(0..=20), allow_negative_numbers = true)]
    syn_retries: u32,
    /// Log more: each connection's TCP statistics when it ends
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("mode").args(["echo", "discard", "http", "https"])))]
pub struct ServeArgs {
    #[command(flatten)]
    net: TunArgs,
    /// Port to listen on
    #[arg(long, value_name = "PORT", value_parser = whole::<u16>(1..=65535), allow_negative_numbers = true)]
    port: u16,
    /// Send back whatever arrives (the default)
    #[arg(long)]
    echo: bool,
    /// Read and throw away whatever arrives
    #[arg(long)]
    discard: bool,
    /// Serve the files in DIR over HTTP/1.1
    #[arg(long, value_name = "DIR")]
    http: Option<PathBuf>,
    /// Serve the files in DIR over HTTPS (with --cert and --key, or --self-signed)
    #[arg(long, value_name = "DIR")]
    https: Option<PathBuf>,
    /// Certificate chain for --https (PEM)
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key for --https (PEM)
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Make a self-signed certificate for --https
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    self_signed: bool,
    /// Listen backlog (1 to 65535)
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = whole::<usize>(1..=65535), allow_negative_numbers = true)]
    backlog: usize,
    /// Control socket that `synack netstat` reads (default: /tmp/synack-NAME.sock)
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    #[command(flatten)]
    net: TunArgs,
    /// Where to connect, IP:PORT (IPv6 as [ADDR]:PORT)
    #[arg(value_name = "HOST:PORT")]
    to: SocketAddr,
}

#[derive(Args, Debug)]
pub struct GetArgs {
    #[command(flatten)]
    net: TunArgs,
    /// http://IP:PORT/PATH or https://IP:PORT/PATH (an IP address, no DNS)
    #[arg(value_name = "URL")]
    url: String,
    /// Write the body to FILE instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Accept any server certificate (for self-signed ones)
    #[arg(short = 'k', long)]
    insecure: bool,
    /// Trust the CA certificates in FILE (PEM)
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct NetstatArgs {
    /// The TUN device a `synack serve` runs on
    #[arg(long, value_name = "NAME", required_unless_present = "control")]
    tun: Option<String>,
    /// Its control socket, if not the default
    #[arg(long, value_name = "PATH")]
    control: Option<PathBuf>,
}

fn parse_prefix(s: &str) -> Result<(IpAddr, u8), String> {
    let (ip, len) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' needs a prefix length, like 10.77.0.2/24"))?;
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| format!("'{ip}' is not an IP address"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = len
        .parse()
        .ok()
        .filter(|l| *l <= max)
        .ok_or_else(|| format!("'{len}' is not a prefix length (0 to {max})"))?;
    if ip.is_unspecified() || ip.is_multicast() {
        return Err(format!("{ip} cannot be a host address"));
    }
    Ok((ip, len))
}

/// The kernel's address in the prefix: the first host address that is
/// not synack's.
fn kernel_side(addr: IpAddr, prefix: u8) -> IpAddr {
    // Both families as a number of `bits` bits.
    let (bits, value) = match addr {
        IpAddr::V4(a) => (32, u128::from(u32::from(a))),
        IpAddr::V6(a) => (128, u128::from(a)),
    };
    let width = u128::MAX >> (128 - bits);
    let host_bits = bits - u32::from(prefix);
    let mask = if host_bits >= 128 {
        0
    } else {
        (u128::MAX << host_bits) & width
    };
    let net = value & mask;
    let first = net.wrapping_add(1) & width;
    let pick = if first == value {
        net.wrapping_add(2) & width
    } else {
        first
    };
    match addr {
        IpAddr::V4(_) => IpAddr::V4((pick as u32).into()),
        IpAddr::V6(_) => IpAddr::V6(pick.into()),
    }
}

/// One line, the way the CLI reports failures.
fn fail(what: impl std::fmt::Display) -> ExitCode {
    eprintln!("synack: {what}");
    ExitCode::FAILURE
}

/// Opens and configures the TUN device, and waits until it is up.
fn open_tun(a: &TunArgs) -> io::Result<TunDevice> {
    let mut dev = TunDevice::open(&a.tun, a.mtu as usize)?;
    let kernel: Vec<(IpAddr, u8)> = if a.tun_addrs.is_empty() {
        a.addrs
            .iter()
            .map(|&(ip, p)| (kernel_side(ip, p), p))
            .collect()
    } else {
        a.tun_addrs.clone()
    };
    for (ip, p) in kernel {
        if a.addrs.iter().any(|&(mine, _)| mine == ip) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the kernel's address {ip} is synack's own; pick another with --tun-addr"),
            ));
        }
        dev.add_address(ip, p)?;
    }
    dev.up()?;
    dev.wait_up(StdDuration::from_secs(10))?;
    Ok(dev)
}

/// The stack over the TUN device (inside a tokio runtime).
fn start_stack(a: &TunArgs, dev: TunDevice) -> io::Result<Stack> {
    let mut host = HostConfig::new(a.addrs[0].0);
    host.addresses = a.addrs.clone();
    host.tcp.syn_retries = a.syn_retries;
    let impair = ImpairConfig {
        loss: a.loss,
        delay: synack_time::Duration::from_millis(a.delay),
        jitter: synack_time::Duration::ZERO,
        reorder: a.reorder,
        seed: a.seed,
    };
    let mut tun = Tun::new(dev, impair)?;
    if let Some(p) = &a.pcap {
        tun.capture(p)?;
    }
    Stack::spawn(StackConfig::new(host), tun)
}

/// `serve` runs on two worker threads: many connections, and TLS work per
/// connection outside the stack's lock, can use both. `connect` and `get`
/// have one connection, whose application task and stack driver take
/// turns on one lock: on one thread they hand over without waking another
/// (through the TUN, about a third faster each way on two cores).
fn runtime(many_connections: bool) -> io::Result<tokio::runtime::Runtime> {
    if many_connections {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
}

// ---- serve -------------------------------------------------------------

enum Mode {
    Echo,
    Discard,
    Http(PathBuf),
    Https(PathBuf, Arc<rustls::ServerConfig>),
}

pub fn serve(args: ServeArgs) -> ExitCode {
    let mode = match (&args.http, &args.https) {
        (Some(dir), _) => match check_dir(dir) {
            Ok(()) => Mode::Http(dir.clone()),
            Err(e) => return fail(e),
        },
        (_, Some(dir)) => {
            if let Err(e) = check_dir(dir) {
                return fail(e);
            }
            match tls_server_config(&args) {
                Ok(c) => Mode::Https(dir.clone(), c),
                Err(e) => return fail(e),
            }
        }
        // --echo is the default; the flag only says so (clap keeps it
        // exclusive with the other modes).
        _ if args.discard && !args.echo => Mode::Discard,
        _ => Mode::Echo,
    };
    let dev = match open_tun(&args.net) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let rt = match runtime(true) {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let control = args
        .control
        .clone()
        .unwrap_or_else(|| default_control(&args.net.tun));
    let result = rt.block_on(serve_async(args, dev, mode, control.clone()));
    let _ = std::fs::remove_file(&control);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

fn check_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{}: not a directory", dir.display()),
        ))
    }
}

fn default_control(tun: &str) -> PathBuf {
    PathBuf::from(format!("/tmp/synack-{tun}.sock"))
}

async fn serve_async(
    args: ServeArgs,
    dev: TunDevice,
    mode: Mode,
    control: PathBuf,
) -> io::Result<()> {
    let stack = start_stack(&args.net, dev)?;
    let any = SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), args.port);
    let listener = synack::tokio::TcpListener::bind_with(&stack, any, args.backlog, None)
        .map_err(|e| io::Error::new(e.kind(), format!("port {}: {e}", args.port)))?;
    let _ = std::fs::remove_file(&control);
    let ctl = tokio::net::UnixListener::bind(&control).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("control socket {}: {e}", control.display()),
        )
    })?;
    let what = match &mode {
        Mode::Echo => "echo".to_string(),
        Mode::Discard => "discard".to_string(),
        Mode::Http(d) => format!("HTTP from {}", d.display()),
        Mode::Https(d, _) => format!("HTTPS from {}", d.display()),
    };
    let addrs: Vec<String> = args
        .net
        .addrs
        .iter()
        .map(|(ip, p)| format!("{ip}/{p}"))
        .collect();
    eprintln!(
        "synack: serving {what} on port {} at {} (tun {}); Ctrl-C stops; `synack netstat --tun {}` shows the sockets",
        args.port,
        addrs.join(", "),
        args.net.tun,
        args.net.tun
    );
    let mode = Arc::new(mode);
    let verbose = args.net.verbose;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            r = listener.accept() => {
                let (s, peer) = r?;
                let mode = mode.clone();
                tokio::spawn(async move {
                    let start = WallClock::now();
                    let r = handle(s, &mode).await;
                    let secs = start.elapsed().as_secs_f64();
                    match r {
                        Ok((i, o)) => eprintln!("synack: {peer}: {i} bytes in, {o} bytes out, {secs:.3} s"),
                        Err(e) => eprintln!("synack: {peer}: {e} after {secs:.3} s"),
                    }
                });
            }
            c = ctl.accept() => {
                if let Ok((mut c, _)) = c {
                    let text = netstat_text(&stack);
                    tokio::spawn(async move {
                        let _ = c.write_all(text.as_bytes()).await;
                    });
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
    }
    if verbose {
        eprint!("{}", netstat_text(&stack));
    }
    let c = stack.counters();
    eprintln!(
        "synack: stopped; {} segments in, {} out, {} retransmitted, {} SYN cookies sent",
        c.tcp_in_segs, c.tcp_out_segs, c.tcp_retrans_segs, c.syncookies_sent
    );
    stack.shutdown();
    Ok(())
}

fn netstat_text(stack: &Stack) -> String {
    let mut s = format!("{}", stack.sockets());
    s.push_str("counters (nstat):\n");
    for (name, v) in stack.counters().iter() {
        if v != 0 {
            s.push_str(&format!("  {name:<32} {v}\n"));
        }
    }
    s
}

/// Serves one connection; returns (bytes in, bytes out).
async fn handle(s: synack::tokio::TcpStream, mode: &Mode) -> io::Result<(u64, u64)> {
    match mode {
        Mode::Echo => {
            let (mut r, mut w) = s.into_split();
            let n = tokio::io::copy(&mut r, &mut w).await?;
            w.shutdown().await?;
            Ok((n, n))
        }
        Mode::Discard => {
            let mut s = s;
            let mut buf = vec![0u8; 65536];
            let mut n = 0u64;
            loop {
                let k = s.read(&mut buf).await?;
                if k == 0 {
                    break;
                }
                n += k as u64;
            }
            s.shutdown().await?;
            Ok((n, 0))
        }
        Mode::Http(dir) => serve_http(TokioIo::new(s), dir.clone()).await,
        Mode::Https(dir, cfg) => {
            let tls = tokio_rustls::TlsAcceptor::from(cfg.clone())
                .accept(s)
                .await?;
            serve_http(TokioIo::new(tls), dir.clone()).await
        }
    }
}

async fn serve_http<I>(io: TokioIo<I>, dir: PathBuf) -> io::Result<(u64, u64)>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = sent.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let dir = dir.clone();
        let counted = counted.clone();
        async move {
            let resp = file_response(&dir, req.uri().path()).await;
            let len = resp.body().size_hint().exact().unwrap_or(0);
            counted.fetch_add(len, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, std::convert::Infallible>(resp)
        }
    });
    hyper::server::conn::http1::Builder::new()
        .serve_connection(io, svc)
        .await
        .map_err(io::Error::other)?;
    Ok((0, sent.load(std::sync::atomic::Ordering::Relaxed)))
}

async fn file_response(dir: &Path, path: &str) -> Response<Full<Bytes>> {
    let status = |code: StatusCode, text: &str| {
        let mut r = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
        *r.status_mut() = code;
        r
    };
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|c| c == ".." || c.starts_with('.')) {
        return status(StatusCode::FORBIDDEN, "forbidden");
    }
    let mut file = dir.join(rel);
    if file.is_dir() {
        file = file.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(data) => Response::new(Full::new(Bytes::from(data))),
        Err(_) => status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn tls_server_config(args: &ServeArgs) -> io::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let (certs, key): (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) =
        match (&args.cert, &args.key) {
            (Some(c), Some(k)) => {
                let read = |p: &PathBuf| {
                    std::fs::read(p)
                        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))
                };
                let cbytes = read(c)?;
                let certs = rustls_pemfile::certs(&mut &cbytes[..])
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", c.display()))
                    })?;
                if certs.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{}: no PEM certificate in it", c.display()),
                    ));
                }
                let kbytes = read(k)?;
                let key = rustls_pemfile::private_key(&mut &kbytes[..])
                    .map_err(|e| {
                        io::Error::new(io::ErrorKind::InvalidData, format!("{}: {e}", k.display()))
                    })?
                    .ok_or_else(|| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("{}: no PEM private key in it", k.display()),
                        )
                    })?;
                (certs, key)
            }
            _ if args.self_signed => {
                let mut names = vec!["localhost".to_string()];
                names.extend(args.net.addrs.iter().map(|(ip, _)| ip.to_string()));
                let ck = rcgen::generate_simple_self_signed(names)
                    .map_err(|e| io::Error::other(format!("cannot make a certificate: {e}")))?;
                let key = PrivatePkcs8KeyDer::from(ck.key_pair.serialize_der());
                (vec![ck.cert.der().clone()], PrivateKeyDer::Pkcs8(key))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "--https needs --cert FILE --key FILE, or --self-signed",
                ))
            }
        };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("certificate: {e}")))?;
    Ok(Arc::new(cfg))
}

// ---- connect -------------------------------------------------------------

pub fn connect(args: ConnectArgs) -> ExitCode {
    let dev = match open_tun(&args.net) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let rt = match runtime(false) {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match rt.block_on(connect_async(&args, dev)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{}: {e}", args.to)),
    }
}

async fn connect_async(args: &ConnectArgs, dev: TunDevice) -> io::Result<()> {
    let stack = start_stack(&args.net, dev)?;
    let s = synack::tokio::TcpStream::connect(&stack, args.to).await?;
    if args.net.verbose {
        eprintln!("synack: connected to {} from {}", args.to, s.local_addr()?);
    }
    let (mut r, mut w) = s.into_split();
    let up = tokio::spawn(async move {
        // Large reads: each write wakes the stack's driver once.
        let mut stdin = tokio::io::BufReader::with_capacity(256 * 1024, tokio::io::stdin());
        let n = tokio::io::copy_buf(&mut stdin, &mut w).await?;
        // End of input: a FIN (half-close, like `nc -N`).
        w.shutdown().await?;
        Ok::<u64, io::Error>(n)
    });
    let mut stdout = tokio::io::stdout();
    tokio::io::copy(&mut r, &mut stdout).await?;
    stdout.flush().await?;
    // The peer's FIN ends only its direction (RFC 9293 §3.6, half-close):
    // it may still receive, so the rest of stdin goes on to it.
    up.await.map_err(io::Error::other)??;
    drop(r);
    linger(&stack).await;
    stack.shutdown();
    Ok(())
}

/// How long a command waits before it exits for its connections to
/// deliver what they were given.
const LINGER: StdDuration = StdDuration::from_secs(10);

/// Waits (up to [`LINGER`]) until every connection has delivered its data
/// and its FIN has been acknowledged (FIN-WAIT-2, TIME-WAIT or gone). The
/// stack lives in this process: stopping it sooner would lose what a
/// CLOSE still owes the peer (RFC 9293 §3.10.4: queued data, then FIN).
async fn linger(stack: &Stack) {
    use synack_tcp::State;
    let deadline = tokio::time::Instant::now() + LINGER;
    while tokio::time::Instant::now() < deadline {
        let owes = stack.sockets().0.iter().any(|row| {
            matches!(
                row.state,
                State::Established
                    | State::CloseWait
                    | State::FinWait1
                    | State::Closing
                    | State::LastAck
            )
        });
        if !owes {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
}

// ---- get -----------------------------------------------------------------

#[derive(Debug)]
struct Url {
    tls: bool,
    addr: SocketAddr,
    host: String,
    path: String,
}

fn parse_url(s: &str) -> Result<Url, String> {
    let (tls, rest) = if let Some(r) = s.strip_prefix("http://") {
        (false, r)
    } else if let Some(r) = s.strip_prefix("https://") {
        (true, r)
    } else {
        return Err(format!(
            "'{s}': the URL must start with http:// or https://"
        ));
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let default_port = if tls { 443 } else { 80 };
    let addr: SocketAddr = if let Ok(a) = hostport.parse() {
        a
    } else if let Ok(ip) = hostport.trim_matches(['[', ']']).parse::<IpAddr>() {
        SocketAddr::new(ip, default_port)
    } else {
        return Err(format!(
            "'{hostport}': the host must be an IP address (synack does no DNS), like 10.77.0.1:8000 or [fd77::1]:8000"
        ));
    };
    Ok(Url {
        tls,
        addr,
        host: hostport.to_string(),
        path: path.to_string(),
    })
}

pub fn get(args: GetArgs) -> ExitCode {
    let url = match parse_url(&args.url) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let tls = if url.tls {
        match tls_client_config(&args) {
            Ok(c) => Some(c),
            Err(e) => return fail(e),
        }
    } else {
        None
    };
    let dev = match open_tun(&args.net) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let rt = match runtime(false) {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    match rt.block_on(get_async(&args, &url, dev, tls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("{}: {e}", args.url)),
    }
}

async fn get_async(
    args: &GetArgs,
    url: &Url,
    dev: TunDevice,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> io::Result<()> {
    let stack = start_stack(&args.net, dev)?;
    let s = synack::tokio::TcpStream::connect(&stack, url.addr).await?;
    let start = WallClock::now();
    let n = match tls {
        None => fetch(TokioIo::new(s), url, args).await?,
        Some(cfg) => {
            let name = rustls::pki_types::ServerName::IpAddress(url.addr.ip().into());
            let t = tokio_rustls::TlsConnector::from(cfg)
                .connect(name, s)
                .await?;
            fetch(TokioIo::new(t), url, args).await?
        }
    };
    if args.net.verbose || args.output.is_some() {
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "synack: {n} bytes in {secs:.3} s ({:.1} Mbit/s)",
            n as f64 * 8.0 / secs.max(1e-9) / 1e6
        );
    }
    linger(&stack).await;
    stack.shutdown();
    Ok(())
}

async fn fetch<I>(io: TokioIo<I>, url: &Url, args: &GetArgs) -> io::Result<u64>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(io::Error::other)?;
    let conn = tokio::spawn(conn);
    let req = Request::get(url.path.as_str())
        .header(hyper::header::HOST, url.host.as_str())
        .header(hyper::header::USER_AGENT, "synack")
        .body(http_body_util::Empty::<Bytes>::new())
        .map_err(io::Error::other)?;
    let mut resp = sender.send_request(req).await.map_err(io::Error::other)?;
    if !resp.status().is_success() {
        return Err(io::Error::other(format!("HTTP {}", resp.status())));
    }
    let total = resp
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> = match &args.output {
        Some(p) => Box::new(
            tokio::fs::File::create(p)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", p.display())))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    let progress = std::io::stderr().is_terminal()
        && (args.output.is_some() || !std::io::stdout().is_terminal());
    let mut n = 0u64;
    let mut last = WallClock::now();
    while let Some(frame) = resp.body_mut().frame().await {
        let frame = frame.map_err(io::Error::other)?;
        if let Some(d) = frame.data_ref() {
            out.write_all(d).await?;
            n += d.len() as u64;
            if progress && last.elapsed() > StdDuration::from_millis(200) {
                last = WallClock::now();
                match total {
                    Some(t) if t > 0 => {
                        eprint!("\r{:>5.1}%  {n} of {t} bytes", n as f64 * 100.0 / t as f64)
                    }
                    _ => eprint!("\r{n} bytes"),
                }
                let _ = std::io::stderr().flush();
            }
        }
    }
    if progress {
        eprintln!();
    }
    out.flush().await?;
    drop(sender);
    let _ = conn.await;
    if let Some(t) = total {
        if n != t {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("got {n} of {t} bytes"),
            ));
        }
    }
    Ok(n)
}

fn tls_client_config(args: &GetArgs) -> io::Result<Arc<rustls::ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?;
    let cfg = if args.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth()
    } else {
        let Some(path) = &args.cacert else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "https needs --cacert FILE to check the server, or -k to accept any certificate",
            ));
        };
        let bytes = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut roots = rustls::RootCertStore::empty();
        for c in rustls_pemfile::certs(&mut &bytes[..]) {
            let c = c.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            roots
                .add(c)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(cfg))
}

/// `-k`: any certificate is accepted; signatures are still checked.
#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---- netstat -------------------------------------------------------------

pub fn netstat(args: NetstatArgs) -> ExitCode {
    let path = match (&args.control, &args.tun) {
        (Some(p), _) => p.clone(),
        (None, Some(t)) => default_control(t),
        (None, None) => return fail("netstat needs --tun NAME or --control PATH"),
    };
    let mut s = match std::os::unix::net::UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            return fail(format!(
                "{}: {e} (is `synack serve` running on that TUN?)",
                path.display()
            ))
        }
    };
    let mut text = String::new();
    if let Err(e) = io::Read::read_to_string(&mut s, &mut text) {
        return fail(format!("{}: {e}", path.display()));
    }
    print!("{text}");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_side_is_the_first_other_host_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(kernel_side(ip("10.77.0.2"), 24), ip("10.77.0.1"));
        assert_eq!(kernel_side(ip("10.77.0.1"), 24), ip("10.77.0.2"));
        assert_eq!(kernel_side(ip("fd77::2"), 64), ip("fd77::1"));
        assert_eq!(kernel_side(ip("fd77::1"), 64), ip("fd77::2"));
    }

    #[test]
    fn prefixes_and_urls_parse_or_say_why_not() {
        assert_eq!(parse_prefix("10.0.0.2/24").unwrap().1, 24);
        assert!(parse_prefix("10.0.0.2")
            .unwrap_err()
            .contains("prefix length"));
        assert!(parse_prefix("10.0.0.2/33").is_err());
        assert!(parse_prefix("nonsense/24")
            .unwrap_err()
            .contains("not an IP"));
        let u = parse_url("http://10.77.0.1:8000/a/b").unwrap();
        assert_eq!(
            (u.tls, u.addr.port(), u.path.as_str()),
            (false, 8000, "/a/b")
        );
        let u = parse_url("https://[fd77::1]:8443").unwrap();
        assert_eq!((u.tls, u.addr.port(), u.path.as_str()), (true, 8443, "/"));
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("http://example.com/")
            .unwrap_err()
            .contains("no DNS"));
    }
}
