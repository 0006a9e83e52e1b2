//! Prometheus metrics, served as text at `GET /metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The server's metrics. Cheap to clone; clones share their values.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Open rooms.
    pub rooms: Gauge,
    /// Entries waiting in the queue.
    pub queue_length: Gauge,
    /// Terminal bytes relayed to viewers.
    pub bytes_relayed: Counter,
    /// Protocol and limit violations.
    pub violations: Counter,
    /// Reconnections (a participant or host agent back in its room).
    pub reconnects: Counter,
    /// Control messages received.
    pub messages: Counter,
    /// Snapshots sent to late or lagging viewers.
    pub snapshots: Counter,
    /// Writes to the database that failed (each attempt; they are retried in order).
    pub store_errors: Counter,
}

impl Metrics {
    /// The metrics in Prometheus text format.
    pub fn encode(&self) -> String {
        let mut registry = Registry::with_prefix("roulette");
        registry.register(
            "connections",
            "Open WebSocket connections",
            self.connections.clone(),
        );
        registry.register("rooms", "Open rooms", self.rooms.clone());
        registry.register(
            "queue_length",
            "Entries waiting for a partner",
            self.queue_length.clone(),
        );
        registry.register(
            "bytes_relayed",
            "Terminal bytes relayed to viewers",
            self.bytes_relayed.clone(),
        );
        registry.register(
            "violations",
            "Protocol and limit violations",
            self.violations.clone(),
        );
        registry.register(
            "reconnects",
            "Participants and host agents back in their room",
            self.reconnects.clone(),
        );
        registry.register(
            "messages",
            "Control messages received",
            self.messages.clone(),
        );
        registry.register("snapshots", "Screen snapshots sent", self.snapshots.clone());
        registry.register(
            "store_errors",
            "Failed attempts to write to the database (retried in order)",
            self.store_errors.clone(),
        );
        let mut out = String::new();
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
