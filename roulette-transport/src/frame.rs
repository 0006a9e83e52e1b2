//! Binary frames: terminal bytes with their byte offsets, screen snapshots, and control
//! messages, split into packets of bounded size and reassembled.
//!
//! A packet is a 10-byte header and a payload:
//!
//! ```text
//! byte 0      kind: 1 output, 2 input, 3 snapshot, 4 control
//! byte 1      flags: bit 0 = MORE (another fragment of this frame follows); other bits zero
//! bytes 2..10 offset, u64 big-endian: the stream position of the payload's first byte
//!             (output and input), the output position a snapshot shows (snapshot), 0 (control)
//! bytes 10..  payload
//! ```
//!
//! Output and input are byte streams, so a large one is cut into independent frames whose
//! offsets follow on; nothing waits for reassembly. Snapshots and control messages are cut into
//! fragments flagged MORE and put back together by [`Reassembler`].

use bytes::{BufMut, Bytes, BytesMut};

use crate::codes::CloseCode;
use crate::limits::{MAX_PACKET, MAX_REASSEMBLED, PACKET_HEADER};

const FLAG_MORE: u8 = 0x01;

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// Terminal output from the agent.
    Output = 1,
    /// Terminal input for the agent.
    Input = 2,
    /// A snapshot of the screen.
    Snapshot = 3,
    /// A JSON control message.
    Control = 4,
}

impl FrameKind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(FrameKind::Output),
            2 => Some(FrameKind::Input),
            3 => Some(FrameKind::Snapshot),
            4 => Some(FrameKind::Control),
            _ => None,
        }
    }

    /// Whether a large frame of this kind is split into independent frames rather than
    /// fragments.
    fn is_stream(self) -> bool {
        matches!(self, FrameKind::Output | FrameKind::Input)
    }
}

/// One logical frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// Terminal output; `offset` is the output-stream position of `data[0]`.
    Output {
        /// Stream position of the first byte.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// Terminal input; `offset` is the input-stream position of `data[0]`.
    Input {
        /// Stream position of the first byte.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// Bytes that, written to a fresh terminal, reproduce the screen as it was after `offset`
    /// bytes of output. Live output continues from `offset`.
    Snapshot {
        /// The output position the snapshot shows.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// A JSON control message (on byte streams and data channels; WebSocket uses text frames).
    Control(String),
}

impl Frame {
    /// The frame's kind.
    pub fn kind(&self) -> FrameKind {
        match self {
            Frame::Output { .. } => FrameKind::Output,
            Frame::Input { .. } => FrameKind::Input,
            Frame::Snapshot { .. } => FrameKind::Snapshot,
            Frame::Control(_) => FrameKind::Control,
        }
    }

    fn parts(&self) -> (u64, &[u8]) {
        match self {
            Frame::Output { offset, data }
            | Frame::Input { offset, data }
            | Frame::Snapshot { offset, data } => (*offset, data),
            Frame::Control(text) => (0, text.as_bytes()),
        }
    }

    /// For output and input, the stream position just after the last byte.
    pub fn end_offset(&self) -> Option<u64> {
        match self {
            Frame::Output { offset, data } | Frame::Input { offset, data } => {
                offset.checked_add(data.len() as u64)
            }
            _ => None,
        }
    }

    /// The frame as packets of at most `max_packet` bytes (header included; at least one byte
    /// of payload per packet).
    pub fn to_packets(&self, max_packet: usize) -> Vec<Bytes> {
        let chunk = max_packet.saturating_sub(PACKET_HEADER).max(1);
        let kind = self.kind();
        let (offset, payload) = self.parts();
        if payload.is_empty() {
            return vec![encode_packet(kind, 0, offset, &[])];
        }
        let count = payload.len().div_ceil(chunk);
        payload
            .chunks(chunk)
            .enumerate()
            .map(|(i, piece)| {
                if kind.is_stream() {
                    encode_packet(kind, 0, offset.wrapping_add((i * chunk) as u64), piece)
                } else {
                    let flags = if i + 1 < count { FLAG_MORE } else { 0 };
                    encode_packet(kind, flags, offset, piece)
                }
            })
            .collect()
    }

    /// The frame as packets of at most [`MAX_PACKET`] bytes.
    pub fn packets(&self) -> Vec<Bytes> {
        self.to_packets(MAX_PACKET)
    }
}

fn encode_packet(kind: FrameKind, flags: u8, offset: u64, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(PACKET_HEADER + payload.len());
    buf.put_u8(kind as u8);
    buf.put_u8(flags);
    buf.put_u64(offset);
    buf.put_slice(payload);
    buf.freeze()
}

/// Why a packet was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Shorter than the header.
    #[error("packet of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// An unknown kind byte.
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    /// Flag bits that mean nothing.
    #[error("unknown flags {0:#04x}")]
    BadFlags(u8),
    /// A packet or a reassembled frame over its limit.
    #[error("{len} bytes exceed the {max}-byte limit")]
    TooLarge {
        /// The size seen.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A fragment that does not continue the frame being reassembled.
    #[error("fragment does not continue the frame being reassembled")]
    Interleaved,
    /// A control frame that is not UTF-8.
    #[error("control frame is not valid UTF-8")]
    NotUtf8,
    /// Offset plus length passes 2^64.
    #[error("byte offset overflows")]
    OffsetOverflow,
    /// A control message sent as a text frame over its limit.
    #[error("control message of {len} bytes exceeds the {max}-byte limit")]
    ControlTooLarge {
        /// The size seen.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl FrameError {
    /// The close code for a peer that sent this.
    pub fn close_code(&self) -> CloseCode {
        match self {
            FrameError::TooLarge { .. } | FrameError::ControlTooLarge { .. } => {
                CloseCode::MessageTooBig
            }
            FrameError::NotUtf8 => CloseCode::InvalidPayload,
            _ => CloseCode::ProtocolError,
        }
    }
}

#[derive(Debug)]
struct Partial {
    kind: FrameKind,
    offset: u64,
    buf: BytesMut,
}

/// Puts packets back together into frames. After an error it holds nothing, and the peer should
/// be disconnected.
#[derive(Debug)]
pub struct Reassembler {
    max_packet: usize,
    max_frame: usize,
    partial: Option<Partial>,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(MAX_PACKET, MAX_REASSEMBLED)
    }
}

impl Reassembler {
    /// Accepts packets of up to `max_packet` bytes and frames of up to `max_frame` bytes.
    pub fn new(max_packet: usize, max_frame: usize) -> Self {
        Self {
            max_packet,
            max_frame,
            partial: None,
        }
    }

    /// Whether a fragmented frame is half received.
    pub fn is_mid_frame(&self) -> bool {
        self.partial.is_some()
    }

    /// Takes one packet. Returns a frame when one is complete.
    pub fn push(&mut self, packet: Bytes) -> Result<Option<Frame>, FrameError> {
        let result = self.push_inner(packet);
        if result.is_err() {
            self.partial = None;
        }
        result
    }

    fn push_inner(&mut self, mut packet: Bytes) -> Result<Option<Frame>, FrameError> {
        if packet.len() > self.max_packet {
            return Err(FrameError::TooLarge {
                len: packet.len(),
                max: self.max_packet,
            });
        }
        if packet.len() < PACKET_HEADER {
            return Err(FrameError::Truncated(packet.len()));
        }
        let kind = FrameKind::from_byte(packet[0]).ok_or(FrameError::UnknownKind(packet[0]))?;
        let flags = packet[1];
        if flags & !FLAG_MORE != 0 {
            return Err(FrameError::BadFlags(flags));
        }
        let mut offset_bytes = [0u8; 8];
        offset_bytes.copy_from_slice(&packet[2..PACKET_HEADER]);
        let offset = u64::from_be_bytes(offset_bytes);
        let payload = packet.split_off(PACKET_HEADER);
        let more = flags & FLAG_MORE != 0;

        let (offset, data) = match self.partial.take() {
            Some(mut partial) => {
                if partial.kind != kind || partial.offset != offset {
                    return Err(FrameError::Interleaved);
                }
                self.check_size(partial.buf.len() + payload.len())?;
                partial.buf.extend_from_slice(&payload);
                if more {
                    self.partial = Some(partial);
                    return Ok(None);
                }
                (offset, partial.buf.freeze())
            }
            None if more => {
                self.check_size(payload.len())?;
                self.partial = Some(Partial {
                    kind,
                    offset,
                    buf: BytesMut::from(&payload[..]),
                });
                return Ok(None);
            }
            None => (offset, payload),
        };
        if offset.checked_add(data.len() as u64).is_none() {
            return Err(FrameError::OffsetOverflow);
        }
        Ok(Some(match kind {
            FrameKind::Output => Frame::Output { offset, data },
            FrameKind::Input => Frame::Input { offset, data },
            FrameKind::Snapshot => Frame::Snapshot { offset, data },
            FrameKind::Control => {
                Frame::Control(String::from_utf8(data.to_vec()).map_err(|_| FrameError::NotUtf8)?)
            }
        }))
    }

    fn check_size(&self, len: usize) -> Result<(), FrameError> {
        if len > self.max_frame {
            return Err(FrameError::TooLarge {
                len,
                max: self.max_frame,
            });
        }
        Ok(())
    }
}
