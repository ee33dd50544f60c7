//! Demultiplexing: the 4-tuple that names a connection.

use std::net::SocketAddr;

/// A connection's addresses from this host's side.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tuple {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}
