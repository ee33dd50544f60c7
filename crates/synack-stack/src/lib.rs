//! synack-stack: hosts around the TCP engine — IP input and output,
//! demultiplexing by 4-tuple, listeners that spawn connections, ephemeral
//! ports, and RSTs for segments that match nothing.
#![forbid(unsafe_code)]

pub mod counters;
pub mod host;

pub use counters::Counters;
pub use host::{write_packet, Handle, Host, HostConfig, StackError};
