//! The messages that connection tasks, the lobby actor and room actors send each other.

use bytes::Bytes;
use roulette_core::{ParticipantId, RoomKind};
use roulette_transport::{ClientMessage, CloseCode, ServerMessage};
use tokio::sync::{mpsc, oneshot};

/// Something a connection task writes to its socket.
#[derive(Clone, Debug)]
pub enum Outbound {
    /// An encoded control message.
    Text(String),
    /// One binary packet.
    Binary(Bytes),
    /// Close the socket.
    Close(CloseCode, &'static str),
}

impl Outbound {
    /// Encodes a control message. Encoding only fails for messages over the size cap, which the
    /// server never builds; such a message is dropped with a log line.
    pub fn message(message: &ServerMessage) -> Option<Outbound> {
        match message.encode() {
            Ok(text) => Some(Outbound::Text(text)),
            Err(e) => {
                tracing::error!(kind = message.kind(), error = %e, "could not encode a message");
                None
            }
        }
    }
}

/// Sleeps until `deadline`, or forever without one: for `select!` branches on optional timers.
pub async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

/// Which endpoint a connection came in on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/ws`: a participant (browser, terminal client, bot).
    Participant,
    /// `/host`: a host agent, which is also its owner's participant.
    Host,
    /// `/chat`: an anonymous chat-roulette client.
    Chat,
}

/// A connection as other tasks reach it.
#[derive(Clone, Debug)]
pub struct ConnRef {
    /// Unique per connection, to tell a replaced connection from its successor.
    pub conn_id: u64,
    /// Its endpoint.
    pub endpoint: Endpoint,
    /// Its outbound queue.
    pub out: mpsc::Sender<Outbound>,
    /// Notices about its room.
    pub notices: mpsc::Sender<Notice>,
}

impl ConnRef {
    /// Queues a control message; `false` when the queue is full or the connection gone.
    pub fn send(&self, message: &ServerMessage) -> bool {
        match Outbound::message(message) {
            Some(o) => self.out.try_send(o).is_ok(),
            None => true,
        }
    }
}

/// Notices queued per connection. Only the lobby and the connection's room send them, a few per
/// session; a full queue means the connection is not reading them, and it is closed.
pub const NOTICE_QUEUE: usize = 32;

/// Tells a connection task where its session messages go now.
#[derive(Debug)]
pub enum Notice {
    /// In this room, from now on.
    Room(mpsc::Sender<RoomCmd>),
    /// In no room.
    NoRoom,
    /// Close the connection with this code (it could not keep up).
    Close(CloseCode),
}

/// The lobby's inputs.
#[derive(Debug)]
pub enum LobbyCmd {
    /// A connection authenticated; the reply says who it is.
    Hello {
        /// The credential's subject.
        subject: String,
        /// The display name the sign-in gave (a GitHub login), if any.
        name: Option<String>,
        /// The connection.
        conn: ConnRef,
        /// Terminal output the client already holds.
        resume_from: Option<u64>,
        /// A new guest's token, to hand over in `welcome`.
        guest_token: Option<String>,
        /// A chat socket's address key.
        addr: Option<crate::gate::AddrKey>,
        /// The answer. The lobby also queues the `welcome` message itself, ahead of anything
        /// the room sends.
        reply: oneshot::Sender<Result<Welcome, roulette_transport::CloseCode>>,
    },
    /// A lobby request from a participant.
    Request {
        /// Who.
        participant: ParticipantId,
        /// Which connection.
        conn_id: u64,
        /// What.
        message: ClientMessage,
    },
    /// A latency measurement.
    Latency {
        /// Whose.
        participant: ParticipantId,
        /// Round trip.
        rtt: std::time::Duration,
    },
    /// A connection ended.
    Gone {
        /// Whose.
        participant: ParticipantId,
        /// Which connection.
        conn_id: u64,
        /// Which endpoint.
        endpoint: Endpoint,
    },
    /// A room ended.
    RoomClosed(RoomClosed),
    /// May a chat socket from this address open? Counted if so.
    Admit {
        /// The address.
        addr: crate::gate::AddrKey,
        /// The answer.
        reply: oneshot::Sender<Result<(), crate::gate::Refusal>>,
    },
    /// A chat socket from this address closed.
    Release {
        /// The address.
        addr: crate::gate::AddrKey,
    },
    /// A chat socket from this address broke a rule.
    Violation {
        /// The address.
        addr: crate::gate::AddrKey,
    },
}

/// What a connection learns at hello.
#[derive(Debug)]
pub struct Welcome {
    /// Its participant id (stable for a subject while the server runs).
    pub participant: ParticipantId,
    /// Its handle.
    pub name: String,
}

/// How a room ended, for the lobby to requeue and separate.
#[derive(Debug)]
pub struct RoomClosed {
    /// The room.
    pub room: roulette_core::RoomId,
    /// Its kind.
    pub kind: RoomKind,
    /// Why.
    pub reason: roulette_core::EndReason,
    /// The partners.
    pub partners: [ParticipantId; 2],
    /// Whose agent ran, for pairing rooms.
    pub host: Option<ParticipantId>,
}

/// A room's inputs.
#[derive(Debug)]
pub enum RoomCmd {
    /// A connection of a member joins the room (first time or after a reconnect).
    Attach {
        /// Which member.
        participant: ParticipantId,
        /// The connection.
        conn: ConnRef,
        /// Terminal output it already holds.
        resume_from: Option<u64>,
    },
    /// A member's connection ended.
    Detach {
        /// Which member.
        participant: ParticipantId,
        /// Which connection.
        conn_id: u64,
    },
    /// A session message from a member.
    Message {
        /// Who.
        participant: ParticipantId,
        /// Which connection.
        conn_id: u64,
        /// What.
        message: ClientMessage,
    },
    /// Terminal input from a member.
    Input {
        /// Who.
        participant: ParticipantId,
        /// Which connection.
        conn_id: u64,
        /// The bytes.
        data: Bytes,
    },
    /// Terminal output from the host agent.
    Output {
        /// Which connection (must be the room's agent).
        conn_id: u64,
        /// Stream position of the first byte.
        offset: u64,
        /// The bytes.
        data: Bytes,
    },
    /// A member's measured round trip to the server.
    Latency {
        /// Whose.
        participant: ParticipantId,
        /// Round trip.
        rtt: std::time::Duration,
    },
    /// The server is shutting down.
    Shutdown,
}
