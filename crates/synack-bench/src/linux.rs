//! The kernel's TCP over loopback, through `std::net` in this process, and
//! `memcpy`, the one-copy ceiling. Only 127.0.0.1 is ever used.

use crate::{check_pattern, chunk, Bulk, Rate};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Instant as WallClock;

fn io(what: &str) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("loopback: {what}: {e}")
}

/// Moves `bytes` over a loopback TCP connection: a writer thread, a
/// reader here, 64 KiB application buffers on both.
pub fn bulk(bytes: u64) -> Result<Bulk, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("bind"))?;
    let to = listener.local_addr().map_err(io("local_addr"))?;
    let start = WallClock::now();
    let writer = thread::spawn(move || -> Result<(), String> {
        let mut s = TcpStream::connect(to).map_err(io("connect"))?;
        let data = chunk();
        let mut sent = 0u64;
        while sent < bytes {
            let from = (sent % data.len() as u64) as usize;
            let want = ((bytes - sent) as usize).min(data.len() - from);
            let n = s.write(&data[from..from + want]).map_err(io("write"))?;
            sent += n as u64;
        }
        s.shutdown(Shutdown::Write).map_err(io("shutdown"))
    });
    let (mut s, _) = listener.accept().map_err(io("accept"))?;
    let mut buf = vec![0u8; 65536];
    let mut received = 0u64;
    loop {
        let n = s.read(&mut buf).map_err(io("read"))?;
        if n == 0 {
            break;
        }
        if !check_pattern(received, &buf[..n]) {
            return Err(format!("loopback: wrong bytes at offset {received}"));
        }
        received += n as u64;
    }
    let elapsed = start.elapsed();
    writer
        .join()
        .map_err(|_| "loopback: the writer panicked")??;
    if received != bytes {
        return Err(format!("loopback: {received} of {bytes} bytes"));
    }
    Ok(Bulk {
        bytes,
        elapsed,
        packets: 0,
    })
}

/// `n` connections one after another: the client sends a byte, the server
/// reads it and closes, the client reads the end and closes. The server
/// closes first, so TIME-WAIT stays on its side and no client port is
/// held up.
pub fn rate(n: usize) -> Result<Rate, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("bind"))?;
    let to = listener.local_addr().map_err(io("local_addr"))?;
    let start = WallClock::now();
    let mut byte = [0u8; 16];
    for _ in 0..n {
        let mut c = TcpStream::connect(to).map_err(io("connect"))?;
        c.write_all(b"x").map_err(io("write"))?;
        let (mut s, _) = listener.accept().map_err(io("accept"))?;
        s.read_exact(&mut byte[..1]).map_err(io("server read"))?;
        drop(s);
        if c.read(&mut byte).map_err(io("client read"))? != 0 {
            return Err("loopback: data where the end was expected".into());
        }
    }
    Ok(Rate {
        connections: n,
        elapsed: start.elapsed(),
    })
}

/// Copies `bytes` through a 1 MiB buffer 64 KiB at a time: what moving
/// the data once costs, with no TCP at all.
pub fn memcpy(bytes: u64) -> Bulk {
    let data = chunk();
    let mut ring = vec![0u8; 1 << 20];
    let mut at = 0;
    let start = WallClock::now();
    let mut moved = 0u64;
    while moved < bytes {
        let n = ((bytes - moved) as usize).min(data.len());
        if at + n > ring.len() {
            at = 0;
        }
        ring[at..at + n].copy_from_slice(&data[..n]);
        at += n;
        moved += n as u64;
    }
    let elapsed = start.elapsed();
    // Keep the copies from being optimised away.
    std::hint::black_box(&ring);
    Bulk {
        bytes,
        elapsed,
        packets: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_moves_the_bytes_and_opens_connections() {
        assert_eq!(bulk(1 << 20).unwrap().bytes, 1 << 20);
        assert_eq!(rate(5).unwrap().connections, 5);
        assert_eq!(memcpy(1 << 20).bytes, 1 << 20);
    }
}
