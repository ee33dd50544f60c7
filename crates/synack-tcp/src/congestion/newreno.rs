//! NewReno (RFC 5681, RFC 6582): additive increase of one segment per
//! window in congestion avoidance, and ssthresh = max(FlightSize/2, 2·SMSS)
//! on a congestion event. All of it is arithmetic on the shared state in
//! [`super::Congestion`]; the fast-recovery rules (partial ACKs, exit at
//! the recovery point) live in `recovery/`, shared with CUBIC.

/// NewReno keeps no state of its own.
#[derive(Copy, Clone, Debug, Default)]
pub struct NewReno;
