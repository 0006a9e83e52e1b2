//! Protocol versions and how a client and the server agree on one.
//!
//! The first message on every connection is [`ClientMessage::Hello`](crate::ClientMessage::Hello)
//! with the versions the client speaks. The server answers with
//! [`ServerMessage::Welcome`](crate::ServerMessage::Welcome) naming the highest version both
//! speak, or closes with [`CloseCode::UnsupportedVersion`](crate::CloseCode::UnsupportedVersion).

/// The protocol version this crate implements.
pub const PROTOCOL_VERSION: u16 = 1;

/// Every version this crate can speak, oldest first.
pub const SUPPORTED_VERSIONS: &[u16] = &[PROTOCOL_VERSION];

/// The highest version in both `offered` and [`SUPPORTED_VERSIONS`].
pub fn agree_version(offered: &[u16]) -> Option<u16> {
    offered
        .iter()
        .copied()
        .filter(|v| SUPPORTED_VERSIONS.contains(v))
        .max()
}
