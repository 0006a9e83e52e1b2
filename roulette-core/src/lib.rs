#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod error;
pub mod ideas;
pub mod ids;
pub mod invite;
pub mod matchmaker;
pub mod rate_limit;
pub mod safety;
pub mod sanitize;
pub mod session;

pub use error::{MatchError, SessionError};
pub use ids::{ApprovalId, IdeaId, LineId, MatchKey, ParticipantId, PromptId, RoomId};
pub use invite::{Invite, InviteCode, InviteHash};
pub use matchmaker::{
    Candidate, Match, MatchVia, Matchmaker, MatchmakerConfig, MatchmakerOutput, RoomKind,
    Separation,
};
pub use rate_limit::{RateLimit, TokenBucket};
pub use session::{
    Audience, EndReason, Event, Output, Phase, Role, RoomSetup, Session, SessionConfig, Vote,
    WriteAction,
};
