//! Virtual time (the leaf crate synack-time): the engine never reads a
//! clock; callers pass `now` in.

pub use synack_time::{Duration, Instant};
