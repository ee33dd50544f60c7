//! A transfer long enough that SND.UNA comes back to exactly ISS (after
//! 2^32 − 1 bytes, the SYN's one sequence number included) and then goes
//! past it: nothing in the engine may treat "SND.UNA = ISS" as "the SYN is
//! unacknowledged". The first shape did, and stalled or shifted the stream
//! by one byte there.

mod common;

use common::*;
use synack_tcp::{Config, State};

/// A cyclic pattern with a prime period, so a stream shifted by any
/// amount smaller than the period no longer matches.
const PERIOD: usize = 1_000_003;

fn cyclic() -> Vec<u8> {
    let base = pattern(PERIOD);
    // Room to read 1 MiB from any offset in the period.
    base.iter()
        .cycle()
        .take(PERIOD + (1 << 20))
        .copied()
        .collect()
}

/// Moves `total` bytes a → b, checking each byte against the pattern at
/// its stream offset (starting at `offset`).
fn move_bytes(p: &mut Pair, pat: &[u8], offset: &mut u64, total: u64) {
    let mut sent = 0u64;
    let mut got = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    let start = *offset;
    while got < total {
        while sent < total {
            let at = ((start + sent) % PERIOD as u64) as usize;
            let want = ((total - sent) as usize).min(1 << 20);
            match p.a.send(&pat[at..at + want]) {
                Ok(n) if n > 0 => sent += n as u64,
                _ => break,
            }
        }
        p.exchange(|_, _| false);
        loop {
            match p.b.recv(&mut buf) {
                Ok(n) if n > 0 => {
                    let at = ((start + got) % PERIOD as u64) as usize;
                    assert!(
                        buf[..n] == pat[at..at + n],
                        "stream corrupted at offset {}",
                        start + got
                    );
                    got += n as u64;
                }
                _ => break,
            }
        }
    }
    p.exchange(|_, _| false);
    *offset += total;
}

#[test]
fn snd_una_back_at_iss_and_past_it_stays_byte_exact() {
    let cfg = Config {
        mss: 65_000,
        send_buffer: 4 << 20,
        recv_buffer: 4 << 20,
        window_scaling: true,
        ..plain()
    };
    let mut p = Pair::new(cfg.clone(), cfg);
    p.establish();
    let pat = cyclic();
    let mut offset = 0;
    // 2^32 − 1 data bytes: with the SYN that is all of sequence space.
    move_bytes(&mut p, &pat, &mut offset, u64::from(u32::MAX));
    let a = p.a.info();
    assert_eq!(a.snd_una, a.iss, "SND.UNA is back at ISS");
    assert_eq!(a.snd_nxt, a.iss);
    assert_eq!(p.b.info().rcv_nxt, p.b.info().irs, "and RCV.NXT at IRS");
    // ...and on past it, byte for byte.
    move_bytes(&mut p, &pat, &mut offset, 3 << 20);
    assert_eq!(p.a.info().snd_una, a.iss + (3 << 20));
    // The close still works: the FIN's sequence number is right.
    let now = p.now;
    p.a.shutdown(now);
    p.b.shutdown(now);
    p.exchange(|_, _| false);
    // A simultaneous close: both FINs cross, both sides end in TIME-WAIT.
    assert_eq!(p.a.state(), State::TimeWait);
    assert_eq!(p.b.state(), State::TimeWait);
}
