//! One viewer of a room's terminal, and how output reaches it: flow control by credit.
//!
//! A viewer has a position in the output stream. While it keeps up, it gets each new frame as
//! it is produced, encoded once and shared with every other viewer. When it falls behind, the
//! room serves it from its ring of recent output as its credit allows; only when the bytes it
//! needs have left the ring does it skip ahead to a snapshot of the screen. It never holds the
//! host or other viewers back.
//!
//! Credit: a viewer that acknowledges what it has processed (`ack` messages) may have at most
//! `window` bytes unacknowledged, so that little stale output sits in buffers between the relay
//! and a slow screen, and a Ctrl-C shows up fast. A viewer that never acknowledges is held to
//! its connection's queue instead.

use bytes::Bytes;
use roulette_transport::Frame;
use roulette_transport::limits::MAX_PACKET_PAYLOAD;
use std::collections::VecDeque;

use crate::metrics::Metrics;
use crate::terminal::Terminal;
use crate::wiring::{ConnRef, Outbound};

/// The flow-control settings of a room.
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    /// Most unacknowledged bytes per acknowledging viewer.
    pub window: usize,
    /// Most backlog, in time at the viewer's own pace, before it skips to a snapshot.
    pub max_backlog: std::time::Duration,
}

/// Queue slots kept free for control messages: output never fills a connection's queue.
pub const CONTROL_RESERVE: usize = 32;
/// Most unacknowledged sends remembered per viewer.
const MAX_CHECKPOINTS: usize = 4096;

/// A viewer and where it stands.
#[derive(Debug)]
pub struct Viewer {
    /// Its connection.
    pub conn: ConnRef,
    /// The stream position up to which output (or a snapshot) has been queued for it.
    sent_until: u64,
    /// Bytes queued for it so far, and how many of those it has acknowledged.
    sent_total: u64,
    acked_total: u64,
    /// (stream position, `sent_total`) after each send, to credit acknowledgements.
    checkpoints: VecDeque<(u64, u64)>,
    /// Whether it acknowledges (then credit governs it; otherwise its queue does).
    acking: bool,
    /// It must get a snapshot before any more output.
    needs_snapshot: bool,
    /// Bytes a second it has been acknowledging (a moving average), and when it last did.
    rate: f64,
    last_ack: Option<(tokio::time::Instant, u64)>,
}

impl Viewer {
    /// A viewer that holds output up to `from` (`None`: nothing yet).
    pub fn new(conn: ConnRef, from: Option<u64>, term: &Terminal) -> Viewer {
        let (sent_until, needs_snapshot) = match from {
            Some(n) if n >= term.ring_start() && n <= term.end() => (n, false),
            _ if term.end() == 0 => (0, false),
            _ => (term.end(), true),
        };
        Viewer {
            conn,
            sent_until,
            sent_total: 0,
            acked_total: 0,
            checkpoints: VecDeque::new(),
            acking: false,
            needs_snapshot,
            rate: 0.0,
            last_ack: None,
        }
    }

    /// Whether it still lacks output the room has.
    pub fn behind(&self, term: &Terminal) -> bool {
        self.needs_snapshot || self.sent_until < term.end()
    }

    fn in_flight(&self) -> u64 {
        self.sent_total - self.acked_total
    }

    /// How many more bytes may be queued for it now.
    fn budget(&self, window: usize) -> usize {
        let free_slots = self.conn.out.capacity().saturating_sub(CONTROL_RESERVE);
        let by_queue = free_slots * MAX_PACKET_PAYLOAD;
        if self.acking {
            let by_credit = (window as u64).saturating_sub(self.in_flight()) as usize;
            by_credit.min(by_queue)
        } else {
            by_queue
        }
    }

    fn record(&mut self, stream_end: u64, bytes: usize) {
        self.sent_total += bytes as u64;
        self.checkpoints.push_back((stream_end, self.sent_total));
        if self.checkpoints.len() > MAX_CHECKPOINTS {
            // Forget the oldest: counted as acknowledged, which errs towards sending.
            if let Some((_, total)) = self.checkpoints.pop_front() {
                self.acked_total = self.acked_total.max(total);
            }
        }
    }

    /// The viewer has processed output up to `offset`.
    pub fn ack(&mut self, offset: u64) {
        self.acking = true;
        let now = tokio::time::Instant::now();
        let before = self.acked_total;
        while let Some(&(end, total)) = self.checkpoints.front() {
            if end > offset {
                break;
            }
            self.acked_total = self.acked_total.max(total);
            self.checkpoints.pop_front();
        }
        if let Some((then, _)) = self.last_ack {
            let secs = now.duration_since(then).as_secs_f64();
            if secs > 0.0 {
                let sample = (self.acked_total - before) as f64 / secs;
                self.rate = if self.rate == 0.0 {
                    sample
                } else {
                    0.8 * self.rate + 0.2 * sample
                };
            }
        }
        self.last_ack = Some((now, self.acked_total));
    }

    /// Whether its backlog is worth skipping: more than it reads in `flow.max_backlog` (and
    /// more than its window), for a viewer whose pace is known. Stale output is worth less than
    /// a current screen.
    fn too_far_behind(&self, term: &Terminal, flow: &Flow) -> bool {
        if !self.acking || self.rate <= 0.0 {
            return false;
        }
        let backlog = term.end().saturating_sub(self.sent_until);
        let limit = (self.rate * flow.max_backlog.as_secs_f64()).max(flow.window as f64);
        backlog as f64 > limit
    }

    fn send_packets(&mut self, packets: &[Bytes]) -> bool {
        if self.conn.out.capacity() < packets.len() + CONTROL_RESERVE {
            return false;
        }
        for packet in packets {
            if self
                .conn
                .out
                .try_send(Outbound::Binary(packet.clone()))
                .is_err()
            {
                return false;
            }
        }
        true
    }

    /// Sends new output `[start, start + len)` as the shared `packets` if the viewer is caught
    /// up and has the credit; otherwise leaves it to [`pump`](Self::pump).
    pub fn offer(
        &mut self,
        start: u64,
        len: usize,
        packets: &[Bytes],
        flow: &Flow,
        metrics: &Metrics,
    ) -> bool {
        let window = flow.window;
        if self.needs_snapshot || self.sent_until != start || self.budget(window) < len {
            return false;
        }
        if !self.send_packets(packets) {
            return false;
        }
        self.sent_until = start + len as u64;
        self.record(self.sent_until, len);
        metrics.bytes_relayed.inc_by(len as u64);
        true
    }

    /// Sends what the viewer lacks, as far as its credit allows: from the ring, or a snapshot
    /// when the ring no longer holds its next byte.
    pub fn pump(&mut self, term: &mut Terminal, flow: &Flow, metrics: &Metrics) {
        let window = flow.window;
        loop {
            let lost = self.sent_until < term.ring_start() && self.sent_until < term.end();
            if self.needs_snapshot || lost || self.too_far_behind(term, flow) {
                let data = term.snapshot();
                let offset = term.end();
                // A snapshot larger than the window may go once nothing is in flight.
                let fits = self.budget(window) >= data.len() || self.in_flight() == 0;
                let packets = Frame::Snapshot {
                    offset,
                    data: data.clone(),
                }
                .packets();
                if !fits || !self.send_packets(&packets) {
                    self.needs_snapshot = true;
                    return;
                }
                self.needs_snapshot = false;
                self.sent_until = offset;
                self.record(offset, data.len());
                metrics.snapshots.inc();
                continue;
            }
            if self.sent_until >= term.end() {
                return;
            }
            let budget = self.budget(window).min(MAX_PACKET_PAYLOAD);
            if budget == 0 {
                return;
            }
            let Some(data) = term.chunk_at(self.sent_until, budget) else {
                return;
            };
            let len = data.len();
            let packets = Frame::Output {
                offset: self.sent_until,
                data,
            }
            .packets();
            if !self.send_packets(&packets) {
                return;
            }
            self.sent_until += len as u64;
            self.record(self.sent_until, len);
            metrics.bytes_relayed.inc_by(len as u64);
        }
    }
}
