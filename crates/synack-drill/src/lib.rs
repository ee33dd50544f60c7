//! synack-drill: a packetdrill-script runner on virtual time.
//!
//! A script plays the remote peer against one synack [`synack_stack::Host`]:
//! `<` lines are segments injected into the host, `>` lines are segments
//! the host must send, and the other lines are the application's socket
//! calls. Nothing in a script is ever executed: shell (backtick) and
//! python (`%{ }%`) blocks are parsed, and either mapped onto a known
//! setting (a `sysctl -w` of a documented knob) or skipped and reported.
//!
//! * [`script`]: the language (times, packets, system calls, blocks) and
//!   its parser, with line numbers on every error;
//! * [`profile`]: the `linux` and `freebsd` defaults mapped onto
//!   `HostConfig` / `Config`;
//! * [`wire`]: building inbound packets with the script's options in the
//!   script's order, and decoding what the host sent;
//! * [`run`]: the harness (virtual clock, file descriptors, matching);
//! * [`report`]: verdicts, summaries and the not-passing list.
#![forbid(unsafe_code)]

pub mod profile;
pub mod report;
pub mod run;
pub mod script;
pub mod wire;

pub use profile::Profile;
pub use report::{run_path, Summary, Verdict};
pub use run::{run_script, RunOptions};
