//! Adapters between frames and WebSocket messages, independent of any WebSocket library.
//!
//! Control messages travel as text messages; everything else as binary messages holding one
//! packet each. With the `tungstenite` feature, [`WsMessage`] converts to and from
//! `tungstenite::Message`.

use bytes::Bytes;

use crate::frame::{Frame, FrameError, Reassembler};
use crate::limits::{MAX_CONTROL_MESSAGE, MAX_PACKET};

/// A WebSocket data message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsMessage {
    /// A text message: one JSON control message.
    Text(String),
    /// A binary message: one packet.
    Binary(Bytes),
}

/// The WebSocket messages that carry `frame`: one text message for a control frame, one binary
/// message per packet otherwise.
pub fn frame_to_ws(frame: &Frame) -> Result<Vec<WsMessage>, FrameError> {
    match frame {
        Frame::Control(text) => {
            if text.len() > MAX_CONTROL_MESSAGE {
                return Err(FrameError::ControlTooLarge {
                    len: text.len(),
                    max: MAX_CONTROL_MESSAGE,
                });
            }
            Ok(vec![WsMessage::Text(text.clone())])
        }
        other => Ok(other
            .to_packets(MAX_PACKET)
            .into_iter()
            .map(WsMessage::Binary)
            .collect()),
    }
}

/// Turns incoming WebSocket messages back into frames.
#[derive(Debug, Default)]
pub struct WsReader {
    reassembler: Reassembler,
}

impl WsReader {
    /// A reader with the given packet and frame limits.
    pub fn new(max_packet: usize, max_frame: usize) -> Self {
        Self {
            reassembler: Reassembler::new(max_packet, max_frame),
        }
    }

    /// Takes one message; returns a frame when one is complete.
    pub fn push(&mut self, message: WsMessage) -> Result<Option<Frame>, FrameError> {
        match message {
            WsMessage::Text(text) => {
                if text.len() > MAX_CONTROL_MESSAGE {
                    return Err(FrameError::ControlTooLarge {
                        len: text.len(),
                        max: MAX_CONTROL_MESSAGE,
                    });
                }
                if self.reassembler.is_mid_frame() {
                    return Err(FrameError::Interleaved);
                }
                Ok(Some(Frame::Control(text)))
            }
            WsMessage::Binary(packet) => self.reassembler.push(packet),
        }
    }
}

#[cfg(feature = "tungstenite")]
mod tungstenite_conv {
    use super::WsMessage;
    use tungstenite::Message;

    impl From<WsMessage> for Message {
        fn from(m: WsMessage) -> Self {
            match m {
                WsMessage::Text(t) => Message::Text(t.into()),
                WsMessage::Binary(b) => Message::Binary(b),
            }
        }
    }

    impl WsMessage {
        /// The data message inside a tungstenite message; `None` for ping, pong, close and raw
        /// frames, which the WebSocket layer handles.
        pub fn from_tungstenite(m: Message) -> Option<Self> {
            match m {
                Message::Text(t) => Some(WsMessage::Text(t.as_str().to_owned())),
                Message::Binary(b) => Some(WsMessage::Binary(b)),
                Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => None,
            }
        }
    }
}
