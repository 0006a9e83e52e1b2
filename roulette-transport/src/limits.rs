//! Every size limit of protocol v1, in one place. `docs/protocol.md` lists the same numbers and a
//! test checks that they agree.

/// Largest packet on the wire: a WebSocket binary message, one length-prefixed packet on a byte
/// stream, or one data-channel message. Larger frames are fragmented.
pub const MAX_PACKET: usize = 64 * 1024;
/// Bytes of header in every binary packet: kind, flags, and a 64-bit byte offset.
pub const PACKET_HEADER: usize = 10;
/// Largest payload one packet carries.
pub const MAX_PACKET_PAYLOAD: usize = MAX_PACKET - PACKET_HEADER;
/// Largest JSON control message, encoded.
pub const MAX_CONTROL_MESSAGE: usize = 64 * 1024;
/// Largest message after reassembly of fragments (a screen snapshot is the largest).
pub const MAX_REASSEMBLED: usize = 4 * 1024 * 1024;

/// Longest session ticket, in bytes.
pub const MAX_TICKET: usize = 4096;
/// Longest invite code as sent, in bytes.
pub const MAX_INVITE_CODE: usize = 128;
/// Longest chat message on the wire, in bytes (the session's own limit, in characters, is lower).
pub const MAX_CHAT: usize = 4096;
/// Longest project idea on the wire, in bytes.
pub const MAX_IDEA: usize = 1024;
/// Longest prompt on the wire, in bytes.
pub const MAX_PROMPT: usize = 16 * 1024;
/// Longest report reason on the wire, in bytes.
pub const MAX_REPORT: usize = 4096;
/// Longest tool name of an agent's request, in bytes.
pub const MAX_TOOL: usize = 256;
/// Longest summary of what an agent's tool call would do, in bytes.
pub const MAX_SUMMARY: usize = 8 * 1024;
/// Longest reason given with a decision on an agent's tool call, in bytes.
pub const MAX_REASON: usize = 1024;
/// Longest handle or display name, in bytes.
pub const MAX_NAME: usize = 64;
/// A chat client's match key (a hex digest).
pub const MAX_MATCH_KEY: usize = 128;
/// A proof-of-work nonce.
pub const MAX_NONCE: usize = 32;
/// A proof-of-work challenge's prefix.
pub const MAX_CHALLENGE: usize = 64;
/// Longest human-readable error message, in bytes.
pub const MAX_ERROR_MESSAGE: usize = 1024;
/// Most protocol versions a client may offer.
pub const MAX_VERSIONS: usize = 16;
/// Most ideas in a plan message.
pub const MAX_IDEAS: usize = 64;
/// Most safety warnings on one prompt.
pub const MAX_WARNINGS: usize = 64;
