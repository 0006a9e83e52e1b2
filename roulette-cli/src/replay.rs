//! The host agent's replay buffer: terminal output the server has not acknowledged yet, kept
//! so that after a dropped connection the agent can resend from where the server stands.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Output from `start` to `end`, in chunks, at most `cap` bytes.
#[derive(Debug)]
pub struct Replay {
    chunks: VecDeque<Bytes>,
    start: u64,
    end: u64,
    cap: usize,
}

/// A resend could not cover what the server lacks.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("output from {wanted} is gone; the oldest kept byte is at {oldest}")]
pub struct Overrun {
    /// Where the server stands.
    pub wanted: u64,
    /// The oldest byte still kept.
    pub oldest: u64,
}

impl Replay {
    /// An empty buffer keeping at most `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            chunks: VecDeque::new(),
            start: 0,
            end: 0,
            cap,
        }
    }

    /// The stream position after the last byte.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Appends output; returns its offset. The oldest bytes go when over the cap.
    pub fn push(&mut self, data: Bytes) -> u64 {
        let offset = self.end;
        self.end += data.len() as u64;
        self.chunks.push_back(data);
        while (self.end - self.start) as usize > self.cap && self.chunks.len() > 1 {
            if let Some(old) = self.chunks.pop_front() {
                self.start += old.len() as u64;
            }
        }
        offset
    }

    /// Forgets everything before `offset` (the server has it).
    pub fn acknowledge(&mut self, offset: u64) {
        while let Some(front) = self.chunks.front() {
            let front_end = self.start + front.len() as u64;
            if front_end > offset {
                break;
            }
            self.start = front_end;
            self.chunks.pop_front();
        }
    }

    /// Everything from `offset` to the end, as one buffer, for a resend.
    pub fn since(&self, offset: u64) -> Result<(u64, Bytes), Overrun> {
        if offset < self.start {
            return Err(Overrun {
                wanted: offset,
                oldest: self.start,
            });
        }
        let mut out = BytesMut::new();
        let mut pos = self.start;
        for chunk in &self.chunks {
            let chunk_end = pos + chunk.len() as u64;
            if chunk_end > offset {
                let skip = offset.saturating_sub(pos) as usize;
                out.extend_from_slice(&chunk[skip..]);
            }
            pos = chunk_end;
        }
        Ok((offset.min(self.end), out.freeze()))
    }

    /// Starts over for a new session.
    pub fn reset(&mut self) {
        self.chunks.clear();
        self.start = 0;
        self.end = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resends_exactly_what_the_server_lacks() {
        let mut r = Replay::new(1000);
        assert_eq!(r.push(Bytes::from_static(b"hello ")), 0);
        assert_eq!(r.push(Bytes::from_static(b"world")), 6);
        assert_eq!(r.since(3).unwrap(), (3, Bytes::from_static(b"lo world")));
        r.acknowledge(6);
        assert_eq!(r.since(6).unwrap(), (6, Bytes::from_static(b"world")));
        assert_eq!(r.since(11).unwrap(), (11, Bytes::new()));
        assert_eq!(
            r.since(2),
            Err(Overrun {
                wanted: 2,
                oldest: 6
            })
        );
    }

    #[test]
    fn keeps_at_most_its_cap() {
        let mut r = Replay::new(10);
        for _ in 0..10 {
            r.push(Bytes::from_static(b"abcd"));
        }
        assert_eq!(r.end(), 40);
        assert!(r.since(30).is_err());
        assert_eq!(r.since(32).unwrap().1.len(), 8);
    }
}
