//! synack-tcp: the sans-IO TCP engine.
//!
//! One [`Connection`] is one RFC 9293 transmission control block. It never
//! reads a clock, draws randomness or does I/O: the caller feeds segments,
//! time and application calls in, and takes segments, deadlines and events
//! out. See docs/ARCHITECTURE.md for the full picture.
#![forbid(unsafe_code)]

pub mod buffer;
mod close;
pub mod config;
pub mod congestion;
mod conn;
pub mod error;
mod handshake;
pub mod isn;
pub mod recv;
pub mod rtt;
mod send;
pub mod seq;
pub mod state;
pub mod time;
pub mod timer;

pub use config::Config;
pub use conn::{ConnStats, Connection, Event, Info, Transmit};
pub use error::{CloseReason, Error};
pub use handshake::DEFAULT_MSS;
pub use isn::IsnSecret;
pub use recv::{check_rst, segment_acceptable, RstVerdict};
pub use seq::SeqNum;
pub use state::{Cause, State, Transition};
pub use time::{Duration, Instant};
