//! The socket APIs over a simulated link. The async tests run on a tokio
//! runtime that starts paused: time only moves when every task waits, so
//! the stacks' timers run on virtual time and nothing sleeps.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration as StdDuration;

use synack::{sim_link, Clock, Stack, StackConfig};
use synack_device::{Link, LinkConfig};
use synack_stack::HostConfig;
use synack_tcp::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const A: &str = "10.77.0.1";
const B: &str = "10.77.0.2";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn configs(clock: Clock) -> (StackConfig, StackConfig) {
    let mk = |addr: &str, seed: u8| {
        let mut c = StackConfig::new(HostConfig::new(addr.parse().unwrap()));
        c.entropy = Some([seed; 32]);
        c.clock = Some(clock);
        c
    };
    (mk(A, 1), mk(B, 2))
}

/// Two stacks on one simulated link, drivers spawned on this runtime.
fn pair(link: LinkConfig) -> (Stack, Stack) {
    let (a, b) = sim_link(Link::symmetric(link, 7));
    let (ca, cb) = configs(Clock::new());
    (Stack::spawn(ca, a).unwrap(), Stack::spawn(cb, b).unwrap())
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + i / 977) as u8).collect()
}

#[tokio::test(start_paused = true)]
async fn echo_a_mebibyte_over_a_lossy_link() {
    let (client, server) = pair(
        LinkConfig::ideal()
            .with_delay(Duration::from_millis(10))
            .with_loss(0.02),
    );
    let listener = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:7"))
        .await
        .unwrap();
    let echo = tokio::spawn(async move {
        let (s, peer) = listener.accept().await.unwrap();
        assert_eq!(peer.ip().to_string(), A);
        let (mut r, mut w) = s.into_split();
        tokio::io::copy(&mut r, &mut w).await.unwrap();
        // Dropping the write half sends the FIN.
    });
    let c = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:7"))
        .await
        .unwrap();
    assert_eq!(c.peer_addr().unwrap(), sa("10.77.0.2:7"));
    assert_eq!(c.local_addr().unwrap().ip().to_string(), A);
    let data = pattern(1 << 20);
    let (mut r, mut w) = c.into_split();
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        w.write_all(&sent).await.unwrap();
        w.shutdown().await.unwrap();
    });
    let mut got = Vec::new();
    r.read_to_end(&mut got).await.unwrap();
    writer.await.unwrap();
    echo.await.unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the echo differs");
    let retrans = client.counters().tcp_retrans_segs + server.counters().tcp_retrans_segs;
    assert!(retrans > 0, "the link lost nothing?");
}

#[tokio::test(start_paused = true)]
async fn errors_map_to_std_kinds() {
    let (client, server) = pair(LinkConfig::ideal().with_delay(Duration::from_millis(1)));
    // Nobody listens: refused.
    let e = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:81"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
    // A second listener on a port: in use.
    let _l = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:80"))
        .await
        .unwrap();
    let e = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:80"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
    // An address the stack does not have.
    let e = synack::tokio::TcpListener::bind(&server, sa("10.77.0.9:82"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AddrNotAvailable);
    // A black hole: SYNs until the retries run out.
    let e = synack::tokio::TcpStream::connect(&client, sa("10.77.0.3:80"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    // A reset connection.
    let l = synack::tokio::TcpListener::bind(&server, sa("0.0.0.0:90"))
        .await
        .unwrap();
    let mut c = synack::tokio::TcpStream::connect(&client, sa("10.77.0.2:90"))
        .await
        .unwrap();
    let (mut s, _) = l.accept().await.unwrap();
    // Unread data at close makes a RST (RFC 2525 §2.17).
    c.write_all(b"unread").await.unwrap();
    // Virtual time: the runtime is paused, so this only moves the stacks'
    // clocks on until the bytes have arrived (links of 1 ms).
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    drop(s.write_all(b"x").await);
    drop(s);
    let mut buf = [0u8; 16];
    let mut kind = None;
    for _ in 0..10 {
        match c.read(&mut buf).await {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => {
                kind = Some(e.kind());
                break;
            }
        }
    }
    assert_eq!(kind, Some(std::io::ErrorKind::ConnectionReset));
    let e = c.write_all(b"more").await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn blocking_sockets_echo_over_a_driver_thread() {
    let (a, b) = sim_link(Link::symmetric(
        LinkConfig::ideal().with_delay(Duration::from_millis(1)),
        3,
    ));
    let (ca, cb) = configs(Clock::new());
    let client = Stack::spawn_thread(ca, move || Ok(a)).unwrap();
    let server = Stack::spawn_thread(cb, move || Ok(b)).unwrap();
    let listener = synack::net::TcpListener::bind(&server, sa("0.0.0.0:7")).unwrap();
    let t = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).unwrap();
        }
        s.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let c = synack::net::TcpStream::connect_timeout(
        &client,
        sa("10.77.0.2:7"),
        StdDuration::from_secs(10),
    )
    .unwrap();
    c.set_read_timeout(Some(StdDuration::from_secs(30)))
        .unwrap();
    c.set_nodelay(true).unwrap();
    let data = pattern(256 * 1024);
    let reader = {
        let c2 = &c;
        std::thread::scope(|scope| {
            let h = scope.spawn(move || {
                let mut got = Vec::new();
                let mut r = c2;
                r.read_to_end(&mut got).unwrap();
                got
            });
            let mut w = &c;
            w.write_all(&data).unwrap();
            c.shutdown(std::net::Shutdown::Write).unwrap();
            h.join().unwrap()
        })
    };
    t.join().unwrap();
    assert!(reader == data, "the echo differs");
    assert!(c.take_error().unwrap().is_none());
    // A read timeout gives WouldBlock, as std does.
    let listener = synack::net::TcpListener::bind(&server, sa("0.0.0.0:8")).unwrap();
    let mut c = synack::net::TcpStream::connect(&client, sa("10.77.0.2:8")).unwrap();
    let _s = listener.accept().unwrap();
    c.set_read_timeout(Some(StdDuration::from_millis(50)))
        .unwrap();
    let e = c.read(&mut [0u8; 4]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
}
