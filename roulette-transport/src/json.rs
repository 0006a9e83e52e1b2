//! Encoding and decoding control messages as JSON text.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codes::CloseCode;
use crate::limits::MAX_CONTROL_MESSAGE;
use crate::{ClientMessage, ServerMessage};

/// Why a control message could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message is larger than [`MAX_CONTROL_MESSAGE`].
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not UTF-8.
    #[error("message is not valid UTF-8")]
    NotUtf8,
    /// Not JSON, nested too deeply, an unknown `type` or field, a wrong type, or a field over
    /// its cap.
    #[error("malformed message: {0}")]
    Malformed(#[from] serde_json::Error),
}

impl DecodeError {
    /// The close code for a peer that sent this, if the connection is to be closed.
    pub fn close_code(&self) -> CloseCode {
        match self {
            DecodeError::TooLarge { .. } => CloseCode::MessageTooBig,
            DecodeError::NotUtf8 => CloseCode::InvalidPayload,
            DecodeError::Malformed(_) => CloseCode::ProtocolError,
        }
    }
}

/// Why a message could not be encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The encoded message would exceed [`MAX_CONTROL_MESSAGE`].
    #[error("encoded message of {len} bytes exceeds the {max}-byte limit")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Serialisation failed.
    #[error("could not encode: {0}")]
    Json(#[from] serde_json::Error),
}

fn decode<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    if text.len() > MAX_CONTROL_MESSAGE {
        return Err(DecodeError::TooLarge {
            len: text.len(),
            max: MAX_CONTROL_MESSAGE,
        });
    }
    // serde_json refuses nesting deeper than 128 levels on its own, and the message types have
    // no recursive fields, so depth is bounded twice over.
    Ok(serde_json::from_str(text)?)
}

fn decode_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_CONTROL_MESSAGE {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: MAX_CONTROL_MESSAGE,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::NotUtf8)?;
    decode(text)
}

fn encode<T: Serialize>(message: &T) -> Result<String, EncodeError> {
    let text = serde_json::to_string(message)?;
    if text.len() > MAX_CONTROL_MESSAGE {
        return Err(EncodeError::TooLarge {
            len: text.len(),
            max: MAX_CONTROL_MESSAGE,
        });
    }
    Ok(text)
}

impl ClientMessage {
    /// Decodes a text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode(text)
    }

    /// Decodes raw bytes that should hold a UTF-8 text frame.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_bytes(bytes)
    }

    /// Encodes as a text frame.
    pub fn encode(&self) -> Result<String, EncodeError> {
        encode(self)
    }
}

impl ServerMessage {
    /// Decodes a text frame.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        decode(text)
    }

    /// Decodes raw bytes that should hold a UTF-8 text frame.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode_bytes(bytes)
    }

    /// Encodes as a text frame.
    pub fn encode(&self) -> Result<String, EncodeError> {
        encode(self)
    }
}
