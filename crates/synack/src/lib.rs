//! synack's sockets: std-shaped blocking ([`net`]) and tokio async
//! ([`tokio`]) `TcpListener` and `TcpStream`, over a [`Stack`] that drives
//! one synack host over any device — a simulated link ([`sim_link`]) or,
//! on Linux, a TUN device (`tun::Tun`).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use synack::{sim_link, Stack, StackConfig};
//! use synack_device::{Link, LinkConfig};
//! use synack_stack::HostConfig;
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! let (a, b) = sim_link(Link::symmetric(LinkConfig::ideal(), 1));
//! let clock = synack::Clock::new();
//! let mut ca = StackConfig::new(HostConfig::new("10.77.0.1".parse().unwrap()));
//! ca.clock = Some(clock);
//! let mut cb = StackConfig::new(HostConfig::new("10.77.0.2".parse().unwrap()));
//! cb.clock = Some(clock);
//! let client = Stack::spawn(ca, a)?;
//! let server = Stack::spawn(cb, b)?;
//! let listener = synack::tokio::TcpListener::bind(&server, "0.0.0.0:7".parse().unwrap()).await?;
//! let mut c = synack::tokio::TcpStream::connect(&client, "10.77.0.2:7".parse().unwrap()).await?;
//! let (mut s, _) = listener.accept().await?;
//! c.write_all(b"hello").await?;
//! let mut buf = [0; 5];
//! s.read_exact(&mut buf).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod net;
mod sock;
mod stack;
pub mod tokio;
#[cfg(target_os = "linux")]
pub mod tun;

pub use stack::{sim_link, Clock, NetDevice, SimEnd, Stack, StackConfig};
