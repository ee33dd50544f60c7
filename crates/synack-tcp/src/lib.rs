//! synack-tcp: the sans-IO TCP engine.
//!
//! One [`Connection`] is one RFC 9293 transmission control block. It never
//! reads a clock, draws randomness or does I/O: the caller feeds segments,
//! time and application calls in, and takes segments, deadlines and events
//! out. [`Connection`]'s documentation gives the calling order;
//! docs/ARCHITECTURE.md gives the full picture.
//!
//! The TCB is split by concern into types that own their state:
//!
//! * [`sender::Sender`]: send sequence space, send ring, the retransmission
//!   record, RTT estimator, congestion control and loss recovery;
//! * [`receiver::Receiver`]: receive sequence space, receive ring,
//!   reassembly, window advertisement and the ACK policy;
//! * the connection itself: the state machine (`handshake.rs`, `input.rs`,
//!   `close.rs`), the timer table and the negotiated options.
#![forbid(unsafe_code)]

pub mod buffer;
mod close;
pub mod config;
pub mod congestion;
mod conn;
pub mod error;
mod events;
mod handshake;
mod icmp;
mod input;
pub mod isn;
mod output;
pub mod receiver;
pub mod recovery;
pub mod rtt;
pub mod sender;
pub mod seq;
pub mod state;
pub mod time;
pub mod timer;

pub use close::TimeWaitState;
pub use config::{AckEvery, Config, Keepalive, ReceiverSws};
pub use congestion::Algorithm;
pub use conn::{ConnStats, Connection, Event, Info, SegmentKind, Transmit};
pub use error::{CloseReason, Error};
pub use handshake::{syn_ack_options, timestamp_clock, Handshake};
pub use icmp::IcmpVerdict;
pub use input::{check_rst, segment_acceptable, RstVerdict};
pub use isn::IsnSecret;
pub use receiver::syn_window;
pub use recovery::{Phase, RecoveryEvent};
pub use sender::{default_mss, SendKind, DEFAULT_MSS};
pub use seq::SeqNum;
pub use state::{Cause, State, Transition};
pub use time::{Duration, Instant};
