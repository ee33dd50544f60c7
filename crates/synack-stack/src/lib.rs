//! synack-stack: hosts around the TCP engine — IP input and output, ICMP,
//! demultiplexing by 4-tuple, listeners with a SYN queue, an accept queue
//! and SYN cookies, ephemeral ports, a compact TIME-WAIT table, orphans,
//! a timer heap, and RSTs for segments that match nothing. See `host.rs`
//! for the shape and where each part lives.
#![forbid(unsafe_code)]

mod config;
mod cookie;
pub mod counters;
mod demux;
mod device;
mod host;
mod icmp;
mod ip;
mod listener;
mod ports;
mod table;
mod timers;
mod timewait;

pub use config::HostConfig;
pub use counters::Counters;
pub use demux::{DemuxHash, Tuple};
pub use host::{BufferTooSmall, ConnectOptions, Handle, Host, HostEvent, StackError};
pub use ip::write_packet;
pub use listener::{HalfOpen, Listener, PeerSyn};
pub use table::{SocketRow, SocketTable, TcpRow};
pub use timewait::TimeWaitEntry;
