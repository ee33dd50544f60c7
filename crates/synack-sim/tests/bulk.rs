//! The bulk benchmark's own shape as a test: a transfer over a zero-delay
//! link happens at one virtual instant, so timers are armed, cleared and
//! armed again at the same deadline over and over. The host's timer heap
//! must keep one live entry per owner through that (a heap full of copies
//! of one deadline made each compaction keep them all, and `bench bulk`
//! fell from 8 to 0.27 Gbit/s).

use synack_device::{LinkConfig, Side};
use synack_sim::bench::bulk_config;
use synack_sim::world::{World, WorldConfig};

#[test]
fn a_transfer_at_one_instant_keeps_the_timer_heap_small() {
    let mut cfg = WorldConfig::new(1, LinkConfig::ideal());
    cfg.trace = false;
    cfg.client_tcp = bulk_config();
    cfg.server_tcp = bulk_config();
    let mut w = World::new(cfg);
    let now = w.now;
    let l = w.server.listen(now, 9).unwrap();
    let c = w.client.connect(now, w.server_addr(9)).unwrap();
    let mut s = None;
    w.run_until(|w| {
        s = w.server.accept(l);
        s.is_some()
    })
    .unwrap();
    let s = s.unwrap();
    let start = w.now;
    let chunk = vec![3u8; 65536];
    let mut buf = vec![0u8; 65536];
    let mut per_mib = Vec::new();
    let mut most = 0;
    for _ in 0..16 {
        let work = w.client.work() + w.server.work();
        let mut got = 0;
        w.run_until(|w| {
            let _ = w.conn(Side::A, c).send(&chunk);
            while let Ok(k) = w.conn(Side::B, s).recv(&mut buf) {
                if k == 0 {
                    break;
                }
                got += k;
            }
            most = most
                .max(w.client.timer_entries())
                .max(w.server.timer_entries());
            got >= 1 << 20
        })
        .unwrap();
        per_mib.push(w.client.work() + w.server.work() - work);
    }
    println!("host work per MiB: {per_mib:?}; most timer entries {most}");
    assert_eq!(w.now, start, "the transfer happened at one instant");
    assert!(most <= 2 * 2 + 1024 + 1, "{most} timer entries");
    let first = per_mib[0];
    for (i, &k) in per_mib.iter().enumerate() {
        assert!(k <= 2 * first, "MiB {i}: work {k}, first MiB {first}");
    }
}
