//! Errors of the core state machines. Every error leaves the state machine as it was.

use std::time::Duration;

use crate::session::Phase;

/// Why the matchmaker refused a request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The same match key already holds a queue slot or an open invite.
    #[error("already waiting for a partner")]
    AlreadyWaiting,
    /// The participant holds no queue slot and no invite.
    #[error("not waiting for a partner")]
    NotWaiting,
    /// The queue or the invite table is at its configured limit.
    #[error("the queue is full; try again shortly")]
    QueueFull,
    /// The code is unknown, expired, already used, or the redeemer's own. All four answer the same
    /// so that a guesser learns nothing.
    #[error("this invite is not valid")]
    InviteInvalid,
    /// A pairing invite where neither side has a host agent connected; the invite stays open.
    #[error("neither partner can host an agent; connect a host agent first")]
    NoHost,
}

/// Why a session refused an action.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The sender is not one of the two partners of this session.
    #[error("not a member of this session")]
    NotMember,
    /// The action does not fit the session's current phase.
    #[error("not possible while the session is {actual:?}")]
    WrongPhase {
        /// The phase the session is in.
        actual: Phase,
    },
    /// The action does not fit this kind of room (for example a vote in a chat-only room).
    #[error("not possible in this kind of room")]
    WrongRoomKind,
    /// Only the current driver may do this.
    #[error("only the driver may do this")]
    NotDriver,
    /// Only the current navigator may do this.
    #[error("only the navigator may do this")]
    NotNavigator,
    /// Only the host may do this.
    #[error("only the host may do this")]
    NotHost,
    /// The host already drives; there is nothing to reclaim.
    #[error("you are already the driver")]
    AlreadyDriver,
    /// A request of this kind is already waiting for an answer.
    #[error("a request is already waiting for an answer")]
    RequestPending,
    /// There is no request to answer, or the sender made it and cannot answer it.
    #[error("there is no request for you to answer")]
    NoRequest,
    /// The one extension has been used.
    #[error("the session has already been extended")]
    ExtensionUsed,
    /// The no-fault rematch window has closed.
    #[error("the rematch window has closed")]
    RematchClosed,
    /// There is no check-in to answer, or the sender has answered it already.
    #[error("there is no check-in to answer")]
    NoCheckIn,
    /// The idea id is not in this plan.
    #[error("unknown idea")]
    UnknownIdea,
    /// The plan holds its maximum number of ideas.
    #[error("the plan already holds {max} ideas")]
    TooManyIdeas {
        /// The configured maximum.
        max: usize,
    },
    /// The prompt id is not waiting in this session, or not at a stage the sender decides.
    #[error("unknown prompt")]
    UnknownPrompt,
    /// The prompt queue is full.
    #[error("{max} prompts are already waiting for approval")]
    PromptQueueFull {
        /// The configured maximum.
        max: usize,
    },
    /// The prompt has safety warnings and the host did not confirm them.
    #[error("this prompt has safety warnings the host must confirm")]
    WarningsNotAcknowledged,
    /// The line id is not the one waiting for approval.
    #[error("unknown line")]
    UnknownLine,
    /// The approval id is not waiting, or not for a decision from the page.
    #[error("there is no such request of the agent's waiting for a decision")]
    UnknownApproval,
    /// The host agent reported more waiting requests than any agent makes.
    #[error("{max} requests of the agent's are already waiting")]
    TooManyApprovals {
        /// The maximum.
        max: usize,
    },
    /// The agent shows the host a dialog of its own; driving cannot change hands until the host
    /// has answered it.
    #[error("the agent is waiting for the host to answer its question; answer it first, then swap")]
    AgentWaitsForHost,
    /// Too much input is held behind a line waiting for the host's approval.
    #[error("input is held until the host approves the pending line")]
    InputHeld,
    /// The text is empty once sanitised.
    #[error("the text is empty")]
    EmptyText,
    /// The text is longer than the field allows.
    #[error("the text is longer than {max} characters")]
    TextTooLong {
        /// The configured maximum, in characters.
        max: usize,
    },
    /// Too many messages in a short time.
    #[error("too many messages; wait {retry_after:?}")]
    RateLimited {
        /// How long until the next one is accepted.
        retry_after: Duration,
    },
    /// A terminal size outside the accepted range.
    #[error("terminal size {cols}x{rows} is out of range")]
    InvalidSize {
        /// Columns asked for.
        cols: u16,
        /// Rows asked for.
        rows: u16,
    },
    /// A pairing room was set up without a host among its partners, or with one partner twice.
    #[error("invalid room setup")]
    InvalidSetup,
}
