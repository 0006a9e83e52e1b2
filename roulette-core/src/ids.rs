//! Newtype identifiers. IDs name things; they are never credentials.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

numeric_id!(
    /// One connected participant (a browser, a terminal chat client, a bot). Assigned by the server.
    ParticipantId
);
numeric_id!(
    /// One room: a pairing session or a chat-only conversation. Assigned by the matchmaker.
    RoomId
);
numeric_id!(
    /// A project idea inside one session's plan.
    IdeaId
);
numeric_id!(
    /// A prompt waiting for approval inside one session.
    PromptId
);
numeric_id!(
    /// A submitted terminal line from a remote driver that waits for the host's approval.
    LineId
);
numeric_id!(
    /// One tool call of the agent's that waits for the host's decision. Assigned by the host
    /// agent, which asked for it.
    ApprovalId
);

/// What identifies a person or device for queueing: one queue slot per key, and pairs that
/// rematched or reported each other are kept apart by key. The server derives it (for example a
/// salted hash of an account id or of an agent session id); core never sees the raw identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MatchKey(pub String);

impl MatchKey {
    /// Wraps an already-derived key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl fmt::Display for MatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
