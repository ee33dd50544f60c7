//! synack-sim: a two-host world on a virtual clock, traces of what
//! happened, ladder diagrams (text and SVG), plots of transfers, the demo
//! scenarios, and seed sweeps. What the pictures say is in `lang`, in
//! English and Chinese.
#![forbid(unsafe_code)]

pub mod bench;
pub mod chaos;
pub mod demo;
pub mod explain;
pub mod goodput;
pub mod ladder;
pub mod lang;
pub mod machine;
pub mod plot;
pub mod scale;
pub mod scenarios;
pub mod svg;
pub mod trace;
pub mod view;
pub mod world;

pub use trace::{
    tcp_header_of, Chain, ChainOwner, NoteKind, Owner, SentSegment, Trace, TraceEvent,
};
pub use world::{sweep, Tap, Verdict, World, WorldConfig, WorldError};
