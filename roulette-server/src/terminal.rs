//! A room's view of the agent's terminal: a bounded ring of recent output for viewers that
//! resume, and a screen state for snapshots.
//!
//! The screen is brought up to date lazily, from the ring, when a snapshot is asked for: while
//! every viewer keeps up, no byte is parsed at all, so a room pouring out output costs little
//! more than the copies. When more output has passed than the ring holds, the screen is rebuilt
//! from the ring alone; 8 MiB of recent output redraws any screen.

use bytes::Bytes;
use std::collections::VecDeque;

/// Recent output and the screen it draws.
pub struct Terminal {
    ring: VecDeque<(u64, Bytes)>,
    ring_bytes: usize,
    max_ring_bytes: usize,
    end: u64,
    screen: vt100::Parser,
    /// The stream position up to which `screen` has parsed.
    screen_pos: u64,
    size: (u16, u16),
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Terminal")
            .field("end", &self.end)
            .field("ring_bytes", &self.ring_bytes)
            .finish()
    }
}

/// What to do with an output frame from the host agent.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// New bytes, starting at the given offset.
    New(u64, Bytes),
    /// Everything in it was already here (a resend after a reconnect).
    Duplicate,
    /// It starts past the end: bytes are missing.
    Gap {
        /// Where the room's stream ends.
        expected: u64,
    },
}

impl Terminal {
    /// An empty terminal of the given size that keeps `max_ring_bytes` of history.
    pub fn new(cols: u16, rows: u16, max_ring_bytes: usize) -> Self {
        Self {
            ring: VecDeque::new(),
            ring_bytes: 0,
            max_ring_bytes,
            end: 0,
            screen: vt100::Parser::new(rows.max(1), cols.max(1), 0),
            screen_pos: 0,
            size: (cols.max(1), rows.max(1)),
        }
    }

    /// The stream position after the last byte.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// Takes a frame of output at `offset`; keeps only bytes not seen before.
    pub fn accept(&mut self, offset: u64, data: Bytes) -> Accepted {
        if offset > self.end {
            return Accepted::Gap { expected: self.end };
        }
        let Some(data_end) = offset.checked_add(data.len() as u64) else {
            return Accepted::Gap { expected: self.end };
        };
        if data_end <= self.end {
            return Accepted::Duplicate;
        }
        let skip = (self.end - offset) as usize;
        let fresh = data.slice(skip..);
        let start = self.end;
        self.ring_bytes += fresh.len();
        self.ring.push_back((start, fresh.clone()));
        self.end += fresh.len() as u64;
        while self.ring_bytes > self.max_ring_bytes && self.ring.len() > 1 {
            if let Some((_, old)) = self.ring.pop_front() {
                self.ring_bytes -= old.len();
            }
        }
        Accepted::New(start, fresh)
    }

    /// The oldest stream position the ring still holds.
    pub fn ring_start(&self) -> u64 {
        self.ring.front().map_or(self.end, |(start, _)| *start)
    }

    /// Up to `max` bytes of output starting at `from`, while the ring holds them (no copy).
    pub fn chunk_at(&self, from: u64, max: usize) -> Option<Bytes> {
        if from < self.ring_start() || from >= self.end {
            return None;
        }
        // Chunks are in order; find the one holding `from`.
        let index = self
            .ring
            .partition_point(|(start, bytes)| start + bytes.len() as u64 <= from);
        let (start, bytes) = self.ring.get(index)?;
        let skip = (from - start) as usize;
        let take = (bytes.len() - skip).min(max);
        Some(bytes.slice(skip..skip + take))
    }

    /// Parses what the screen has not seen yet.
    fn catch_up_screen(&mut self) {
        if self.screen_pos < self.ring_start() {
            // Bytes the screen never saw have left the ring: rebuild from what is left.
            let (cols, rows) = self.size;
            self.screen = vt100::Parser::new(rows, cols, 0);
            self.screen_pos = self.ring_start();
        }
        for (start, bytes) in &self.ring {
            let stop = start + bytes.len() as u64;
            if stop <= self.screen_pos {
                continue;
            }
            let skip = self.screen_pos.saturating_sub(*start) as usize;
            self.screen.process(&bytes[skip..]);
            self.screen_pos = stop;
        }
    }

    /// Bytes that, written to a fresh terminal, reproduce the current screen.
    pub fn snapshot(&mut self) -> Bytes {
        self.catch_up_screen();
        Bytes::from(self.screen.screen().state_formatted())
    }

    /// Follows the agent's terminal size.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        // Output before the resize was drawn at the old size.
        self.catch_up_screen();
        self.size = (cols.max(1), rows.max(1));
        self.screen.screen_mut().set_size(rows.max(1), cols.max(1));
    }
}
