//! Opening and closing connection after connection allocates nothing once
//! the stacks are warm: connection boxes, send and receive rings,
//! retransmission records and event queues are all reused (the
//! connection-rate benchmark's loop, counted by the allocator).

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_warm_host_opens_and_closes_connections_without_allocating() {
    // Warm up: tables, timer queues, the wire's buffers, the spare boxes.
    synack_bench::synack::rate(300).unwrap();
    let n = 2000;
    let region = Region::new(GLOBAL);
    synack_bench::synack::rate(n).unwrap();
    let allocations = region.change().allocations;
    // A new pair of hosts is built (tables, listeners, the wire), then
    // `n` connections: what is allocated per connection must round to
    // nothing.
    let per = allocations as f64 / n as f64;
    println!("{allocations} allocations for {n} connections: {per:.3} per connection");
    assert!(per < 0.1, "{per} allocations per connection");
}
