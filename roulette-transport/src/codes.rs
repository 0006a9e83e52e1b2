//! WebSocket close codes and the error codes of [`ServerMessage::Error`](crate::ServerMessage::Error).

use roulette_core::{MatchError, SessionError};
use serde::{Deserialize, Serialize};

/// Why a connection is closed. Standard codes where one fits; `4xxx` for Roulette's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseCode {
    /// 1000: done; do not reconnect.
    Normal,
    /// 1001: the server is shutting down or restarting; reconnect (with backoff).
    GoingAway,
    /// 1002: the peer broke the protocol (a malformed frame or message).
    ProtocolError,
    /// 1003: a kind of message this endpoint does not accept.
    UnsupportedData,
    /// 1007: a text message that is not UTF-8.
    InvalidPayload,
    /// 1008: a policy violation (bad Origin, too many violations).
    PolicyViolation,
    /// 1009: a message over its size limit.
    MessageTooBig,
    /// 1011: the server failed; reconnect.
    InternalError,
    /// 1013: the server is at capacity; reconnect later.
    TryAgainLater,
    /// 4000: no protocol version in common.
    UnsupportedVersion,
    /// 4001: the ticket is missing, forged, expired or already used.
    Unauthorized,
    /// 4002: no valid `hello` arrived within the authentication deadline.
    AuthTimeout,
    /// 4003: not a member of the room asked for.
    Forbidden,
    /// 4004: the session is over.
    SessionEnded,
    /// 4008: too many messages.
    RateLimited,
    /// 4009: temporarily banned after repeated violations.
    Banned,
    /// 4010: the same participant connected again elsewhere; this connection is replaced.
    Replaced,
    /// 4011: the proof of work was not solved in time.
    ProofTimeout,
    /// 4012: the connection missed its heartbeats (pongs).
    HeartbeatMissed,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        match self {
            CloseCode::Normal => 1000,
            CloseCode::GoingAway => 1001,
            CloseCode::ProtocolError => 1002,
            CloseCode::UnsupportedData => 1003,
            CloseCode::InvalidPayload => 1007,
            CloseCode::PolicyViolation => 1008,
            CloseCode::MessageTooBig => 1009,
            CloseCode::InternalError => 1011,
            CloseCode::TryAgainLater => 1013,
            CloseCode::UnsupportedVersion => 4000,
            CloseCode::Unauthorized => 4001,
            CloseCode::AuthTimeout => 4002,
            CloseCode::Forbidden => 4003,
            CloseCode::SessionEnded => 4004,
            CloseCode::RateLimited => 4008,
            CloseCode::Banned => 4009,
            CloseCode::Replaced => 4010,
            CloseCode::ProofTimeout => 4011,
            CloseCode::HeartbeatMissed => 4012,
        }
    }

    /// The close code for a number, if it is one of ours.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }

    /// Whether a client should reconnect (with backoff and jitter) after this close, with the
    /// ticket it has. After [`CloseCode::Unauthorized`] it needs a new ticket first.
    pub fn should_reconnect(self) -> bool {
        matches!(
            self,
            CloseCode::GoingAway
                | CloseCode::InternalError
                | CloseCode::TryAgainLater
                | CloseCode::AuthTimeout
                | CloseCode::RateLimited
                | CloseCode::HeartbeatMissed
        )
    }

    /// Every close code, for documentation and tests.
    pub const ALL: &'static [CloseCode] = &[
        CloseCode::Normal,
        CloseCode::GoingAway,
        CloseCode::ProtocolError,
        CloseCode::UnsupportedData,
        CloseCode::InvalidPayload,
        CloseCode::PolicyViolation,
        CloseCode::MessageTooBig,
        CloseCode::InternalError,
        CloseCode::TryAgainLater,
        CloseCode::UnsupportedVersion,
        CloseCode::Unauthorized,
        CloseCode::AuthTimeout,
        CloseCode::Forbidden,
        CloseCode::SessionEnded,
        CloseCode::RateLimited,
        CloseCode::Banned,
        CloseCode::Replaced,
        CloseCode::ProofTimeout,
        CloseCode::HeartbeatMissed,
    ];
}

/// Why a request was refused, as sent in an `error` message. The connection stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The message could not be decoded (bad JSON, unknown type or field, wrong type, too long).
    BadMessage,
    /// The first message was not `hello`, or `hello` came twice.
    BadHandshake,
    /// No protocol version in common.
    UnsupportedVersion,
    /// Not allowed on this endpoint or for this participant.
    Forbidden,
    /// Not a member of this session.
    NotMember,
    /// Not possible in the session's current phase.
    WrongPhase,
    /// Not possible in this kind of room.
    WrongRoomKind,
    /// Only the driver may do this.
    NotDriver,
    /// Only the navigator may do this.
    NotNavigator,
    /// Only the host may do this.
    NotHost,
    /// Already the driver.
    AlreadyDriver,
    /// A request is already waiting for an answer.
    RequestPending,
    /// No request to answer.
    NoRequest,
    /// The extension has been used.
    ExtensionUsed,
    /// The rematch window has closed.
    RematchClosed,
    /// No check-in to answer.
    NoCheckIn,
    /// Unknown idea.
    UnknownIdea,
    /// The plan is full.
    TooManyIdeas,
    /// Unknown prompt.
    UnknownPrompt,
    /// The prompt queue is full.
    PromptQueueFull,
    /// The prompt's warnings must be acknowledged by the host.
    WarningsNotAcknowledged,
    /// Unknown held line.
    UnknownLine,
    /// No such request of the agent's waits for a decision.
    UnknownApproval,
    /// Too many requests of the agent's wait at once.
    TooManyApprovals,
    /// The agent waits for the host to answer its own dialog; driving cannot change hands yet.
    AgentWaitsForHost,
    /// Input is held behind a line waiting for approval.
    InputHeld,
    /// The text is empty.
    EmptyText,
    /// The text is too long.
    TextTooLong,
    /// Too many messages; slow down.
    RateLimited,
    /// Bad terminal size.
    InvalidSize,
    /// Already waiting for a partner.
    AlreadyWaiting,
    /// Not waiting for a partner.
    NotWaiting,
    /// The queue is full.
    QueueFull,
    /// The invite is not valid (unknown, expired, used, or one's own).
    InviteInvalid,
    /// Neither partner can host.
    NoHost,
    /// Queueing on the chat endpoint needs a solved proof of work first.
    ProofRequired,
    /// The proof of work does not hold.
    ProofInvalid,
    /// Something else was refused.
    Refused,
    /// The server failed.
    Internal,
}

impl From<&SessionError> for ErrorCode {
    fn from(e: &SessionError) -> Self {
        match e {
            SessionError::NotMember => ErrorCode::NotMember,
            SessionError::WrongPhase { .. } => ErrorCode::WrongPhase,
            SessionError::WrongRoomKind => ErrorCode::WrongRoomKind,
            SessionError::NotDriver => ErrorCode::NotDriver,
            SessionError::NotNavigator => ErrorCode::NotNavigator,
            SessionError::NotHost => ErrorCode::NotHost,
            SessionError::AlreadyDriver => ErrorCode::AlreadyDriver,
            SessionError::RequestPending => ErrorCode::RequestPending,
            SessionError::NoRequest => ErrorCode::NoRequest,
            SessionError::ExtensionUsed => ErrorCode::ExtensionUsed,
            SessionError::RematchClosed => ErrorCode::RematchClosed,
            SessionError::NoCheckIn => ErrorCode::NoCheckIn,
            SessionError::UnknownIdea => ErrorCode::UnknownIdea,
            SessionError::TooManyIdeas { .. } => ErrorCode::TooManyIdeas,
            SessionError::UnknownPrompt => ErrorCode::UnknownPrompt,
            SessionError::PromptQueueFull { .. } => ErrorCode::PromptQueueFull,
            SessionError::WarningsNotAcknowledged => ErrorCode::WarningsNotAcknowledged,
            SessionError::UnknownLine => ErrorCode::UnknownLine,
            SessionError::UnknownApproval => ErrorCode::UnknownApproval,
            SessionError::TooManyApprovals { .. } => ErrorCode::TooManyApprovals,
            SessionError::AgentWaitsForHost => ErrorCode::AgentWaitsForHost,
            SessionError::InputHeld => ErrorCode::InputHeld,
            SessionError::EmptyText => ErrorCode::EmptyText,
            SessionError::TextTooLong { .. } => ErrorCode::TextTooLong,
            SessionError::RateLimited { .. } => ErrorCode::RateLimited,
            SessionError::InvalidSize { .. } => ErrorCode::InvalidSize,
            SessionError::InvalidSetup => ErrorCode::Internal,
            _ => ErrorCode::Refused,
        }
    }
}

impl From<&MatchError> for ErrorCode {
    fn from(e: &MatchError) -> Self {
        match e {
            MatchError::AlreadyWaiting => ErrorCode::AlreadyWaiting,
            MatchError::NotWaiting => ErrorCode::NotWaiting,
            MatchError::QueueFull => ErrorCode::QueueFull,
            MatchError::InviteInvalid => ErrorCode::InviteInvalid,
            MatchError::NoHost => ErrorCode::NoHost,
            _ => ErrorCode::Refused,
        }
    }
}
