//! A [`tokio_util::codec`] for frames over plain byte streams (TCP, pipes, stdio): each packet
//! is prefixed with its length as a big-endian `u32`.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::frame::{Frame, FrameError, Reassembler};
use crate::limits::{MAX_PACKET, MAX_REASSEMBLED};

const LENGTH_PREFIX: usize = 4;

/// Why the byte-stream codec failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A bad packet or frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The stream ended in the middle of a packet or a fragmented frame.
    #[error("stream ended in the middle of a frame")]
    UnexpectedEof,
    /// The underlying stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Length-prefixed packets in, whole [`Frame`]s out, and the reverse.
#[derive(Debug)]
pub struct FrameCodec {
    max_packet: usize,
    reassembler: Reassembler,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new(MAX_PACKET, MAX_REASSEMBLED)
    }
}

impl FrameCodec {
    /// A codec with packets of at most `max_packet` bytes and frames of at most `max_frame`.
    pub fn new(max_packet: usize, max_frame: usize) -> Self {
        Self {
            max_packet,
            reassembler: Reassembler::new(max_packet, max_frame),
        }
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        loop {
            if src.len() < LENGTH_PREFIX {
                return Ok(None);
            }
            let len = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
            if len > self.max_packet {
                return Err(FrameError::TooLarge {
                    len,
                    max: self.max_packet,
                }
                .into());
            }
            if src.len() < LENGTH_PREFIX + len {
                src.reserve(LENGTH_PREFIX + len - src.len());
                return Ok(None);
            }
            src.advance(LENGTH_PREFIX);
            let packet = src.split_to(len).freeze();
            if let Some(frame) = self.reassembler.push(packet)? {
                return Ok(Some(frame));
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, CodecError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() && !self.reassembler.is_mid_frame() => Ok(None),
            None => Err(CodecError::UnexpectedEof),
        }
    }
}

impl Encoder<&Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: &Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        for packet in frame.to_packets(self.max_packet) {
            dst.reserve(LENGTH_PREFIX + packet.len());
            dst.put_u32(packet.len() as u32);
            dst.put_slice(&packet);
        }
        Ok(())
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = CodecError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&frame, dst)
    }
}
