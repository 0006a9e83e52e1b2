//! What a client receives, as one serde enum: every server message as it is on the wire (tagged
//! by `type`), plus the client's own events (terminal bytes, reconnecting, closed). Bindings
//! pass events on as JSON, with terminal bytes in base64.

use base64::Engine;
use roulette_transport::ServerMessage;
use serde::Serialize;

/// An event from the server or about the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// A control message from the server (`matched`, `chat`, `planning`, ...).
    Message(ServerMessage),
    /// Something the client itself reports.
    Local(Local),
}

/// The client's own events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Local {
    /// Terminal output from `offset`, in base64.
    Output {
        /// Stream position of the first byte.
        offset: u64,
        /// The bytes, base64.
        data: String,
    },
    /// The terminal's screen as of `offset` (after a resume that was too far behind).
    Snapshot {
        /// Stream position the screen shows.
        offset: u64,
        /// The screen as terminal bytes, base64.
        data: String,
    },
    /// The connection dropped; the client connects again after this delay.
    Reconnecting {
        /// Delay in milliseconds.
        in_ms: u64,
    },
    /// Connected again (resuming terminal output where it was).
    Reconnected {},
    /// A host agent's status (hosts only).
    Host {
        /// What happened: `connected`, `waiting`, `invite`, `matched`, `agent_started`,
        /// `notice`, `reconnecting`, `ended`, `agent_exited`.
        status: String,
        /// Details, as text.
        detail: String,
    },
    /// The connection is closed for good.
    Closed {
        /// The close code, when the server gave one.
        code: Option<u16>,
        /// Why.
        reason: String,
    },
}

impl Event {
    /// Terminal output as an event.
    pub fn output(offset: u64, data: &[u8]) -> Event {
        Event::Local(Local::Output {
            offset,
            data: base64::engine::general_purpose::STANDARD.encode(data),
        })
    }

    /// A snapshot as an event.
    pub fn snapshot(offset: u64, data: &[u8]) -> Event {
        Event::Local(Local::Snapshot {
            offset,
            data: base64::engine::general_purpose::STANDARD.encode(data),
        })
    }

    /// The `type` of the event.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Message(m) => m.kind(),
            Event::Local(Local::Output { .. }) => "output",
            Event::Local(Local::Snapshot { .. }) => "snapshot",
            Event::Local(Local::Reconnecting { .. }) => "reconnecting",
            Event::Local(Local::Reconnected {}) => "reconnected",
            Event::Local(Local::Host { .. }) => "host",
            Event::Local(Local::Closed { .. }) => "closed",
        }
    }

    /// The event as JSON.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys, no custom errors.
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"closed","code":null,"reason":"unencodable event"}"#.into()
        })
    }
}
