//! Messages from clients (browsers, terminal clients, bots, host agents) to the server.

use roulette_core::session::{ApprovalOutcome, ApprovalPlace};
use roulette_core::{ApprovalId, IdeaId, LineId, PromptId, RoomKind, Vote};
use serde::{Deserialize, Serialize};

use crate::limits::{
    MAX_CHAT, MAX_IDEA, MAX_INVITE_CODE, MAX_MATCH_KEY, MAX_NONCE, MAX_PROMPT, MAX_REASON,
    MAX_REPORT, MAX_SUMMARY, MAX_TICKET, MAX_TOOL, MAX_VERSIONS,
};
use crate::text::{List, Text};

/// Everything a client may send, as JSON text frames tagged by `type`. Unknown types and unknown
/// fields are errors, and every string and list has a cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The first message on every connection: the protocol versions the client speaks, its
    /// ticket, and, when reconnecting, the last terminal byte offset it holds.
    Hello {
        /// Versions the client speaks.
        versions: List<u16, MAX_VERSIONS>,
        /// A short-lived signed ticket (never in the URL).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<Text<MAX_TICKET>>,
        /// Resume terminal output after this many bytes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_from: Option<u64>,
    },
    /// Join the queue for a partner.
    FindPartner {
        /// Pairing session or chat-only room.
        kind: RoomKind,
        /// Chat rooms: one queue slot per key. A client derives it from its agent's session id
        /// by a salted hash (never the raw id); the server hashes it again before use.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<Text<MAX_MATCH_KEY>>,
    },
    /// The answer to a proof-of-work `challenge`: a nonce such that SHA-256 of
    /// `prefix ":" nonce` starts with the asked number of zero bits.
    Solve {
        /// The nonce, as text (decimal digits by convention).
        nonce: Text<MAX_NONCE>,
    },
    /// Ask for the server's aggregate figures (`insights`).
    Insights {},
    /// Leave the queue.
    CancelSearch {},
    /// Open an invite; the server answers with the code.
    CreateInvite {},
    /// Redeem an invite code.
    RedeemInvite {
        /// The code from the link.
        code: Text<MAX_INVITE_CODE>,
    },
    /// A chat message.
    Chat {
        /// The text.
        text: Text<MAX_CHAT>,
    },
    /// The sender is typing.
    Typing {},
    /// Add an idea to the vote.
    AddIdea {
        /// The idea.
        text: Text<MAX_IDEA>,
    },
    /// Vote on an idea.
    Vote {
        /// Which idea.
        idea: IdeaId,
        /// Up, down or clear.
        vote: Vote,
    },
    /// Ask to swap roles.
    RequestSwap {},
    /// Answer a swap request.
    AnswerSwap {
        /// Accept or decline.
        accept: bool,
    },
    /// The host takes the driver role back.
    Reclaim {},
    /// A navigator's prompt suggestion.
    SuggestPrompt {
        /// The prompt.
        text: Text<MAX_PROMPT>,
    },
    /// The driver's own prompt.
    SubmitPrompt {
        /// The prompt.
        text: Text<MAX_PROMPT>,
        /// The host confirms its safety warnings.
        #[serde(default)]
        acknowledge_warnings: bool,
    },
    /// Approve or reject a waiting prompt.
    DecidePrompt {
        /// Which prompt.
        id: PromptId,
        /// Approve or reject.
        approve: bool,
        /// The host confirms its safety warnings.
        #[serde(default)]
        acknowledge_warnings: bool,
    },
    /// The host approves or rejects a remote driver's held line.
    DecideLine {
        /// Which line.
        id: LineId,
        /// Approve or reject.
        approve: bool,
    },
    /// The host allows or denies a tool call of the agent's that waits for them.
    DecideApproval {
        /// Which request.
        id: ApprovalId,
        /// Allow or deny.
        allow: bool,
        /// Why, for the agent and the partner (may be empty).
        #[serde(default)]
        reason: Text<MAX_REASON>,
    },
    /// From a host agent: how it guards the agent while someone else drives.
    AgentPolicy {
        /// The agent's permission requests reach the host agent (Claude Code's hooks).
        approvals: bool,
        /// Every tool call that can change something waits for the host while someone else
        /// drives.
        hold_changes: bool,
        /// Every key a remote driver presses waits for the host.
        hold_keys: bool,
    },
    /// From a host agent: a tool call of the agent's waits for the host.
    ApprovalRequest {
        /// Its id, chosen by the host agent.
        id: ApprovalId,
        /// The tool.
        tool: Text<MAX_TOOL>,
        /// What it would do.
        summary: Text<MAX_SUMMARY>,
        /// Where the host answers it.
        place: ApprovalPlace,
    },
    /// From a host agent: a tool call stopped waiting.
    ApprovalResolved {
        /// Which.
        id: ApprovalId,
        /// How.
        outcome: ApprovalOutcome,
        /// The host's reason, if any.
        #[serde(default)]
        reason: Text<MAX_REASON>,
    },
    /// Answer the halfway check-in.
    CheckIn {
        /// Continue or end.
        keep_going: bool,
    },
    /// Ask for the extension.
    RequestExtension {},
    /// Answer an extension request.
    AnswerExtension {
        /// Accept or decline.
        accept: bool,
    },
    /// Take the no-fault rematch.
    Rematch {},
    /// Skip to a new partner (chat rooms).
    Skip {},
    /// Report the partner.
    Report {
        /// Why (may be empty).
        #[serde(default)]
        reason: Text<MAX_REPORT>,
    },
    /// Leave the session.
    Leave {},
    /// The driver's terminal size; from a host agent, the agent's actual size.
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// A viewer has processed terminal output up to this byte offset (flow control and resume);
    /// from a host agent, the offset of input it has written to the PTY.
    Ack {
        /// The byte offset.
        offset: u64,
    },
    /// From a host agent: the agent's process exited.
    Exit {
        /// Its exit code, if it exited normally.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
    },
}

impl ClientMessage {
    /// The `type` tag, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientMessage::Hello { .. } => "hello",
            ClientMessage::FindPartner { .. } => "find_partner",
            ClientMessage::Solve { .. } => "solve",
            ClientMessage::Insights {} => "insights",
            ClientMessage::CancelSearch {} => "cancel_search",
            ClientMessage::CreateInvite {} => "create_invite",
            ClientMessage::RedeemInvite { .. } => "redeem_invite",
            ClientMessage::Chat { .. } => "chat",
            ClientMessage::Typing {} => "typing",
            ClientMessage::AddIdea { .. } => "add_idea",
            ClientMessage::Vote { .. } => "vote",
            ClientMessage::RequestSwap {} => "request_swap",
            ClientMessage::AnswerSwap { .. } => "answer_swap",
            ClientMessage::Reclaim {} => "reclaim",
            ClientMessage::SuggestPrompt { .. } => "suggest_prompt",
            ClientMessage::SubmitPrompt { .. } => "submit_prompt",
            ClientMessage::DecidePrompt { .. } => "decide_prompt",
            ClientMessage::DecideLine { .. } => "decide_line",
            ClientMessage::DecideApproval { .. } => "decide_approval",
            ClientMessage::AgentPolicy { .. } => "agent_policy",
            ClientMessage::ApprovalRequest { .. } => "approval_request",
            ClientMessage::ApprovalResolved { .. } => "approval_resolved",
            ClientMessage::CheckIn { .. } => "check_in",
            ClientMessage::RequestExtension {} => "request_extension",
            ClientMessage::AnswerExtension { .. } => "answer_extension",
            ClientMessage::Rematch {} => "rematch",
            ClientMessage::Skip {} => "skip",
            ClientMessage::Report { .. } => "report",
            ClientMessage::Leave {} => "leave",
            ClientMessage::Resize { .. } => "resize",
            ClientMessage::Ack { .. } => "ack",
            ClientMessage::Exit { .. } => "exit",
        }
    }
}
