//! synack-sim: a two-host world on a virtual clock, traces of what
//! happened, ladder diagrams, the demo scenarios, and seed sweeps.
#![forbid(unsafe_code)]

pub mod bench;
pub mod chaos;
pub mod goodput;
pub mod ladder;
pub mod scale;
pub mod scenarios;
pub mod trace;
pub mod world;

pub use trace::{tcp_header_of, SentSegment, Trace, TraceEvent};
pub use world::{sweep, Verdict, World, WorldConfig, WorldError};
