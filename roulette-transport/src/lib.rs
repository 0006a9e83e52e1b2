#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod backoff;
pub mod client;
pub mod codec;
pub mod codes;
#[cfg(feature = "client")]
pub mod connect;
pub mod frame;
pub mod json;
pub mod limits;
pub mod pow;
pub mod server;
pub mod text;
#[cfg(feature = "client")]
pub mod tls;
pub mod version;
pub mod ws;

pub use backoff::Backoff;
pub use client::ClientMessage;
pub use codec::{CodecError, FrameCodec};
pub use codes::{CloseCode, ErrorCode};
pub use frame::{Frame, FrameError, FrameKind, Reassembler};
pub use json::{DecodeError, EncodeError};
pub use server::ServerMessage;
pub use text::{List, Text, TooLong};
pub use version::{PROTOCOL_VERSION, SUPPORTED_VERSIONS, agree_version};
pub use ws::{WsMessage, WsReader, frame_to_ws};
