//! Messages from the server to clients and host agents.

use roulette_core::session::{
    AgentPolicy, ApprovalOutcome, ApprovalView, DriverChange, EndReason, Event, IdeaView,
    PromptView,
};
use roulette_core::{ApprovalId, IdeaId, LineId, ParticipantId, PromptId, RoomId, RoomKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::codes::ErrorCode;
use crate::limits::{
    MAX_CHALLENGE, MAX_CHAT, MAX_ERROR_MESSAGE, MAX_IDEAS, MAX_INVITE_CODE, MAX_NAME, MAX_REASON,
    MAX_TICKET,
};
use crate::text::{List, Text};

/// Everything the server sends, as JSON text frames tagged by `type`. Durations are whole
/// milliseconds from the moment of sending, in fields ending in `_ms`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerMessage {
    /// The answer to `hello`: the agreed version and who the client is.
    Welcome {
        /// The agreed protocol version.
        version: u16,
        /// The client's participant id.
        you: ParticipantId,
        /// The client's display handle.
        name: Text<MAX_NAME>,
        /// For a guest who said `hello` without a credential: their new participant token, to
        /// say `hello` with when reconnecting, so they stay the same participant.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<Text<MAX_TICKET>>,
        /// The room the participant is in, after a reconnect; `matched` and the room's state
        /// follow. Absent when in no room.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomId>,
    },
    /// A request was refused; nothing changed. The connection stays open.
    Error {
        /// Machine-readable reason.
        code: ErrorCode,
        /// Human-readable reason.
        message: Text<MAX_ERROR_MESSAGE>,
    },
    /// The client waits in the queue.
    Queued {
        /// 1-based position.
        position: u32,
        /// People connected to the server.
        online: u32,
    },
    /// An invite was opened.
    InviteCreated {
        /// The secret code; shown once, never stored by the server.
        code: Text<MAX_INVITE_CODE>,
        /// Time until it lapses.
        expires_in_ms: u64,
    },
    /// The client was paired.
    Matched {
        /// The room.
        room: RoomId,
        /// Pairing or chat-only.
        kind: RoomKind,
        /// The partner.
        partner: ParticipantId,
        /// The partner's handle.
        partner_name: Text<MAX_NAME>,
        /// Whose machine runs the agent, for pairing rooms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<ParticipantId>,
    },
    /// The vote began.
    Planning {
        /// The drawn ideas.
        ideas: List<IdeaView, MAX_IDEAS>,
        /// Time until the vote closes.
        ends_in_ms: u64,
    },
    /// A partner added an idea.
    IdeaAdded {
        /// The idea.
        idea: IdeaView,
    },
    /// The counts on one idea.
    Tally {
        /// The idea.
        idea: IdeaId,
        /// Up votes.
        up: u32,
        /// Down votes.
        down: u32,
    },
    /// Building began.
    Building {
        /// The chosen project.
        idea: IdeaView,
        /// Whose machine runs the agent.
        host: ParticipantId,
        /// Who drives.
        driver: ParticipantId,
        /// Time until the timer runs out.
        ends_in_ms: u64,
        /// Time left for a no-fault rematch.
        rematch_for_ms: u64,
    },
    /// A chat-only room opened.
    ChatStarted {},
    /// The driver changed.
    DriverChanged {
        /// The new driver.
        driver: ParticipantId,
        /// Why.
        why: DriverChange,
    },
    /// A swap was requested.
    SwapRequested {
        /// By whom.
        by: ParticipantId,
        /// Time to answer.
        expires_in_ms: u64,
    },
    /// A swap was declined.
    SwapDeclined {
        /// By whom.
        by: ParticipantId,
    },
    /// A swap request lapsed.
    SwapExpired {},
    /// A prompt waits for a decision.
    PromptWaiting {
        /// The prompt.
        prompt: PromptView,
    },
    /// A prompt was rejected.
    PromptRejected {
        /// Which.
        id: PromptId,
        /// By whom.
        by: ParticipantId,
    },
    /// A prompt went to the agent.
    PromptSent {
        /// Which.
        id: PromptId,
        /// Released by whom.
        by: ParticipantId,
    },
    /// A remote driver's line waits for the host.
    LineHeld {
        /// Which.
        id: LineId,
        /// The line as typed, sanitised.
        preview: Text<MAX_CHAT>,
    },
    /// A held line was approved.
    LineApproved {
        /// Which.
        id: LineId,
    },
    /// A held line was discarded.
    LineRejected {
        /// Which.
        id: LineId,
    },
    /// A tool call of the agent's waits for the host: the host allows or denies it
    /// (`decide_approval`) when `place` is `roulette`; with `agent_screen` the agent shows its
    /// own dialog at the host's keyboard. Everyone is told.
    ApprovalWaiting {
        /// What it would do.
        approval: ApprovalView,
    },
    /// A tool call stopped waiting for the host.
    ApprovalResolved {
        /// Which.
        id: ApprovalId,
        /// How.
        outcome: ApprovalOutcome,
        /// The host's reason, if any.
        #[serde(default)]
        reason: Text<MAX_REASON>,
    },
    /// To the host agent only: the host's decision from the page.
    ApprovalDecision {
        /// Which request.
        id: ApprovalId,
        /// Allow or deny.
        allow: bool,
        /// The host's reason (may be empty).
        #[serde(default)]
        reason: Text<MAX_REASON>,
    },
    /// How the host agent guards the agent while someone else drives.
    AgentPolicy {
        /// The policy.
        policy: AgentPolicy,
    },
    /// A chat message, sanitised by the server.
    Chat {
        /// Sender.
        from: ParticipantId,
        /// Text.
        text: Text<MAX_CHAT>,
    },
    /// The partner is typing.
    Typing {
        /// Who.
        who: ParticipantId,
    },
    /// The halfway check-in.
    CheckIn {
        /// Time to answer.
        respond_within_ms: u64,
    },
    /// A partner answered the check-in.
    CheckInAnswered {
        /// Who.
        who: ParticipantId,
        /// Their answer.
        keep_going: bool,
    },
    /// Both chose to continue.
    CheckInPassed {},
    /// The end is near.
    Warning {
        /// Time left.
        remaining_ms: u64,
    },
    /// The extension was requested.
    ExtensionRequested {
        /// By whom.
        by: ParticipantId,
        /// Time to answer.
        expires_in_ms: u64,
    },
    /// The extension was declined.
    ExtensionDeclined {
        /// By whom.
        by: ParticipantId,
    },
    /// The extension request lapsed.
    ExtensionExpired {},
    /// The session was extended.
    Extended {
        /// Time until the new end.
        ends_in_ms: u64,
    },
    /// The rematch is no longer offered.
    RematchClosed {},
    /// A partner's connection dropped.
    PartnerAway {
        /// Who.
        who: ParticipantId,
        /// Grace period.
        grace_ms: u64,
    },
    /// A partner came back.
    PartnerBack {
        /// Who.
        who: ParticipantId,
    },
    /// The host agent's connection dropped.
    AgentAway {
        /// Grace period.
        grace_ms: u64,
    },
    /// The host agent came back.
    AgentBack {},
    /// The terminal's size changed (to viewers); resize the PTY (to the host agent).
    Resize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// The agent's process exited.
    AgentExited {
        /// Its exit code, if it exited normally.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
    },
    /// A participant's round-trip time to the server.
    Latency {
        /// Whose.
        who: ParticipantId,
        /// Round trip, in milliseconds.
        rtt_ms: u64,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
    /// To a host agent: the server holds all terminal output before `offset`. After a
    /// reconnect, the agent resends from there; it may forget what comes before.
    Ack {
        /// The stream position the server has reached.
        offset: u64,
    },
    /// Chat endpoint: solve this before queueing (`solve`). Find a nonce such that SHA-256 of
    /// `prefix ":" nonce` starts with `bits` zero bits, within the time given.
    Challenge {
        /// Random text chosen by the server.
        prefix: Text<MAX_CHALLENGE>,
        /// Leading zero bits required.
        bits: u8,
        /// Time left to answer.
        expires_in_ms: u64,
    },
    /// The proof of work was accepted: the client may queue.
    Solved {},
    /// The answer to `insights`: what is happening now, and aggregate counters kept since the
    /// server's first start. Nothing about any person.
    Insights {
        /// Connections open now.
        online: u32,
        /// People waiting for a partner now.
        waiting: u32,
        /// Rooms open now.
        rooms: u32,
        /// Connections since the first start.
        connections_total: u64,
        /// Chat conversations since the first start.
        conversations_total: u64,
        /// Chat messages since the first start.
        messages_total: u64,
    },
    /// The server is going away; reconnect after the given delay (plus jitter).
    Shutdown {
        /// Suggested delay before reconnecting.
        reconnect_after_ms: u64,
    },
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl From<&Event> for ServerMessage {
    fn from(event: &Event) -> Self {
        match event.clone() {
            Event::PlanningStarted { ideas, ends_in } => ServerMessage::Planning {
                ideas: List::truncate(ideas),
                ends_in_ms: ms(ends_in),
            },
            Event::IdeaAdded { idea } => ServerMessage::IdeaAdded { idea },
            Event::Tally { idea, up, down } => ServerMessage::Tally { idea, up, down },
            Event::BuildingStarted {
                idea,
                host,
                driver,
                ends_in,
                rematch_for,
            } => ServerMessage::Building {
                idea,
                host,
                driver,
                ends_in_ms: ms(ends_in),
                rematch_for_ms: ms(rematch_for),
            },
            Event::ChatStarted => ServerMessage::ChatStarted {},
            Event::DriverChanged { driver, why } => ServerMessage::DriverChanged { driver, why },
            Event::SwapRequested { by, expires_in } => ServerMessage::SwapRequested {
                by,
                expires_in_ms: ms(expires_in),
            },
            Event::SwapDeclined { by } => ServerMessage::SwapDeclined { by },
            Event::SwapExpired => ServerMessage::SwapExpired {},
            Event::PromptWaiting { prompt } => ServerMessage::PromptWaiting { prompt },
            Event::PromptRejected { id, by } => ServerMessage::PromptRejected { id, by },
            Event::PromptSent { id, by } => ServerMessage::PromptSent { id, by },
            Event::LineHeld { id, preview } => ServerMessage::LineHeld {
                id,
                preview: Text::truncate(preview),
            },
            Event::LineApproved { id } => ServerMessage::LineApproved { id },
            Event::LineRejected { id } => ServerMessage::LineRejected { id },
            Event::ApprovalWaiting { approval } => ServerMessage::ApprovalWaiting { approval },
            Event::ApprovalResolved {
                id,
                outcome,
                reason,
            } => ServerMessage::ApprovalResolved {
                id,
                outcome,
                reason: Text::truncate(reason),
            },
            Event::AgentPolicyChanged { policy } => ServerMessage::AgentPolicy { policy },
            Event::Chat { from, text } => ServerMessage::Chat {
                from,
                text: Text::truncate(text),
            },
            Event::Typing { who } => ServerMessage::Typing { who },
            Event::CheckIn { respond_within } => ServerMessage::CheckIn {
                respond_within_ms: ms(respond_within),
            },
            Event::CheckInAnswered { who, keep_going } => {
                ServerMessage::CheckInAnswered { who, keep_going }
            }
            Event::CheckInPassed => ServerMessage::CheckInPassed {},
            Event::Warning { remaining } => ServerMessage::Warning {
                remaining_ms: ms(remaining),
            },
            Event::ExtensionRequested { by, expires_in } => ServerMessage::ExtensionRequested {
                by,
                expires_in_ms: ms(expires_in),
            },
            Event::ExtensionDeclined { by } => ServerMessage::ExtensionDeclined { by },
            Event::ExtensionExpired => ServerMessage::ExtensionExpired {},
            Event::Extended { ends_in } => ServerMessage::Extended {
                ends_in_ms: ms(ends_in),
            },
            Event::RematchClosed => ServerMessage::RematchClosed {},
            Event::PartnerAway { who, grace } => ServerMessage::PartnerAway {
                who,
                grace_ms: ms(grace),
            },
            Event::PartnerBack { who } => ServerMessage::PartnerBack { who },
            Event::AgentAway { grace } => ServerMessage::AgentAway {
                grace_ms: ms(grace),
            },
            Event::AgentBack => ServerMessage::AgentBack {},
            Event::Resized { cols, rows } => ServerMessage::Resize { cols, rows },
            Event::Ended { reason } => ServerMessage::Ended { reason },
        }
    }
}

impl ServerMessage {
    /// An `error` message for a refused session action.
    pub fn session_error(e: &roulette_core::SessionError) -> Self {
        ServerMessage::Error {
            code: e.into(),
            message: Text::truncate(e.to_string()),
        }
    }

    /// An `error` message for a refused matchmaking request.
    pub fn match_error(e: &roulette_core::MatchError) -> Self {
        ServerMessage::Error {
            code: e.into(),
            message: Text::truncate(e.to_string()),
        }
    }

    /// The `type` tag, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            ServerMessage::Welcome { .. } => "welcome",
            ServerMessage::Error { .. } => "error",
            ServerMessage::Queued { .. } => "queued",
            ServerMessage::InviteCreated { .. } => "invite_created",
            ServerMessage::Matched { .. } => "matched",
            ServerMessage::Planning { .. } => "planning",
            ServerMessage::IdeaAdded { .. } => "idea_added",
            ServerMessage::Tally { .. } => "tally",
            ServerMessage::Building { .. } => "building",
            ServerMessage::ChatStarted {} => "chat_started",
            ServerMessage::DriverChanged { .. } => "driver_changed",
            ServerMessage::SwapRequested { .. } => "swap_requested",
            ServerMessage::SwapDeclined { .. } => "swap_declined",
            ServerMessage::SwapExpired {} => "swap_expired",
            ServerMessage::PromptWaiting { .. } => "prompt_waiting",
            ServerMessage::PromptRejected { .. } => "prompt_rejected",
            ServerMessage::PromptSent { .. } => "prompt_sent",
            ServerMessage::LineHeld { .. } => "line_held",
            ServerMessage::LineApproved { .. } => "line_approved",
            ServerMessage::LineRejected { .. } => "line_rejected",
            ServerMessage::ApprovalWaiting { .. } => "approval_waiting",
            ServerMessage::ApprovalResolved { .. } => "approval_resolved",
            ServerMessage::ApprovalDecision { .. } => "approval_decision",
            ServerMessage::AgentPolicy { .. } => "agent_policy",
            ServerMessage::Chat { .. } => "chat",
            ServerMessage::Typing { .. } => "typing",
            ServerMessage::CheckIn { .. } => "check_in",
            ServerMessage::CheckInAnswered { .. } => "check_in_answered",
            ServerMessage::CheckInPassed {} => "check_in_passed",
            ServerMessage::Warning { .. } => "warning",
            ServerMessage::ExtensionRequested { .. } => "extension_requested",
            ServerMessage::ExtensionDeclined { .. } => "extension_declined",
            ServerMessage::ExtensionExpired {} => "extension_expired",
            ServerMessage::Extended { .. } => "extended",
            ServerMessage::RematchClosed {} => "rematch_closed",
            ServerMessage::PartnerAway { .. } => "partner_away",
            ServerMessage::PartnerBack { .. } => "partner_back",
            ServerMessage::AgentAway { .. } => "agent_away",
            ServerMessage::AgentBack {} => "agent_back",
            ServerMessage::Resize { .. } => "resize",
            ServerMessage::AgentExited { .. } => "agent_exited",
            ServerMessage::Latency { .. } => "latency",
            ServerMessage::Ended { .. } => "ended",
            ServerMessage::Ack { .. } => "ack",
            ServerMessage::Shutdown { .. } => "shutdown",
            ServerMessage::Challenge { .. } => "challenge",
            ServerMessage::Solved {} => "solved",
            ServerMessage::Insights { .. } => "insights",
        }
    }
}
