//! What a session tells the world: events for participants and bytes for the agent.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::Duration;

use super::approvals::{AgentPolicy, ApprovalOutcome, ApprovalView};
use crate::ids::{ApprovalId, IdeaId, LineId, ParticipantId, PromptId};
use crate::safety::SafetyWarning;

/// The phase of a session, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Choosing a project by vote.
    Planning,
    /// Driving the agent together against the timer.
    Building,
    /// A chat-only room: talking, nothing else.
    Chatting,
    /// Over; see the [`EndReason`].
    Ended,
}

/// A partner's role while building.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Types into the agent's terminal and submits prompts.
    Driver,
    /// Watches, chats and suggests prompts.
    Navigator,
}

/// A vote on one idea.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vote {
    /// For.
    Up,
    /// Against.
    Down,
    /// Withdraw an earlier vote.
    Clear,
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EndReason {
    /// The timer ran out.
    Timer {},
    /// A partner left, or stayed disconnected past the grace period.
    PartnerLeft {
        /// Who left.
        who: ParticipantId,
    },
    /// A partner took the no-fault rematch.
    Rematch {
        /// Who asked for it.
        by: ParticipantId,
    },
    /// The 15-minute check-in was declined, or not answered in time (`by` is then `None`).
    CheckInDeclined {
        /// Who declined, if anyone did.
        by: Option<ParticipantId>,
    },
    /// The host agent stayed disconnected past its grace period.
    HostGone {},
    /// The host's agent exited. `early`: within moments of starting, so it failed to start;
    /// the partner is requeued at the head of the queue, the host is not.
    AgentExited {
        /// Its exit code, when it exited by itself.
        code: Option<i32>,
        /// It exited as the session began.
        early: bool,
    },
    /// A partner reported the other.
    Reported {
        /// The reporter.
        by: ParticipantId,
    },
    /// A partner of a chat-only room skipped to someone new.
    Skipped {
        /// Who skipped.
        by: ParticipantId,
    },
    /// A chat-only room saw no message for the configured idle time.
    Idle {},
}

/// A project idea as participants see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdeaView {
    /// Its id in this plan.
    pub id: IdeaId,
    /// The sanitised text.
    pub text: String,
    /// Who added it; `None` for built-in ideas.
    pub author: Option<ParticipantId>,
}

/// A prompt waiting for a decision, as participants see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptView {
    /// Its id in this session.
    pub id: PromptId,
    /// Who wrote it.
    pub author: ParticipantId,
    /// The sanitised text.
    pub text: String,
    /// Why it needs the host's confirmation; empty when nothing looks risky.
    pub warnings: Vec<SafetyWarning>,
    /// Who decides next.
    pub awaiting: PromptStage,
}

/// Who a waiting prompt is waiting for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStage {
    /// A navigator's suggestion, waiting for the driver.
    Driver,
    /// Approved by a non-host driver or carrying warnings, waiting for the host.
    Host,
}

/// Why the driver changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriverChange {
    /// A swap request was accepted.
    Swapped,
    /// The host took the driver role back.
    Reclaimed,
}

/// Something that happened, addressed to participants.
///
/// Deliberately exhaustive: the wire protocol maps every event, and a new event should fail to
/// compile there until it has a wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The vote began.
    PlanningStarted {
        /// The drawn ideas.
        ideas: Vec<IdeaView>,
        /// Time until the vote closes.
        ends_in: Duration,
    },
    /// A partner added an idea.
    IdeaAdded {
        /// The new idea.
        idea: IdeaView,
    },
    /// The counts on one idea changed.
    Tally {
        /// The idea.
        idea: IdeaId,
        /// Up votes.
        up: u32,
        /// Down votes.
        down: u32,
    },
    /// The plan is made and building began.
    BuildingStarted {
        /// The chosen project.
        idea: IdeaView,
        /// Whose machine runs the agent.
        host: ParticipantId,
        /// Who drives first (the host).
        driver: ParticipantId,
        /// Time until the timer runs out.
        ends_in: Duration,
        /// Time left for a no-fault rematch.
        rematch_for: Duration,
    },
    /// A chat-only room opened.
    ChatStarted,
    /// The driver changed.
    DriverChanged {
        /// The new driver.
        driver: ParticipantId,
        /// Why.
        why: DriverChange,
    },
    /// A partner asked to swap roles.
    SwapRequested {
        /// Who asked.
        by: ParticipantId,
        /// Time to answer.
        expires_in: Duration,
    },
    /// The swap was declined.
    SwapDeclined {
        /// Who declined.
        by: ParticipantId,
    },
    /// The swap request was not answered in time, or was overtaken by a reclaim.
    SwapExpired,
    /// A prompt is waiting for a decision.
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
    /// A prompt was sent to the agent.
    PromptSent {
        /// Which.
        id: PromptId,
        /// Who released it.
        by: ParticipantId,
    },
    /// A remote driver submitted a line that waits for the host's approval.
    LineHeld {
        /// Which.
        id: LineId,
        /// The line as typed, sanitised, for the host to judge.
        preview: String,
    },
    /// The host let a held line through.
    LineApproved {
        /// Which.
        id: LineId,
    },
    /// The host (or a role change) discarded a held line.
    LineRejected {
        /// Which.
        id: LineId,
    },
    /// A tool call of the agent's waits for the host.
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
        /// The host's reason, if any, sanitised.
        reason: String,
    },
    /// How the host agent guards the agent while someone else drives.
    AgentPolicyChanged {
        /// The policy.
        policy: AgentPolicy,
    },
    /// A chat message.
    Chat {
        /// The sender.
        from: ParticipantId,
        /// The sanitised text.
        text: String,
    },
    /// The partner is typing.
    Typing {
        /// Who.
        who: ParticipantId,
    },
    /// Halfway: both must choose to continue.
    CheckIn {
        /// Time to answer.
        respond_within: Duration,
    },
    /// A partner answered the check-in.
    CheckInAnswered {
        /// Who.
        who: ParticipantId,
        /// Their answer.
        keep_going: bool,
    },
    /// Both chose to continue.
    CheckInPassed,
    /// The end is near.
    Warning {
        /// Time left.
        remaining: Duration,
    },
    /// A partner asked for the one extension.
    ExtensionRequested {
        /// Who.
        by: ParticipantId,
        /// Time to answer.
        expires_in: Duration,
    },
    /// The extension was declined.
    ExtensionDeclined {
        /// By whom.
        by: ParticipantId,
    },
    /// The extension request was not answered in time.
    ExtensionExpired,
    /// The session was extended.
    Extended {
        /// Time until the new end.
        ends_in: Duration,
    },
    /// The no-fault rematch is no longer offered.
    RematchClosed,
    /// A partner's connection dropped; they have a grace period to come back.
    PartnerAway {
        /// Who.
        who: ParticipantId,
        /// The grace period.
        grace: Duration,
    },
    /// A partner came back.
    PartnerBack {
        /// Who.
        who: ParticipantId,
    },
    /// The host agent's connection dropped.
    AgentAway {
        /// The grace period.
        grace: Duration,
    },
    /// The host agent came back.
    AgentBack,
    /// The driver resized the terminal.
    Resized {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// The session is over.
    Ended {
        /// Why.
        reason: EndReason,
    },
}

/// Who an event is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Both partners.
    Both,
    /// One participant.
    Only(ParticipantId),
}

impl Audience {
    /// Whether `who` should receive it.
    pub fn includes(self, who: ParticipantId) -> bool {
        match self {
            Audience::Both => true,
            Audience::Only(p) => p == who,
        }
    }
}

/// A report about a partner, for the server to persist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Who reported.
    pub reporter: ParticipantId,
    /// Who was reported.
    pub reported: ParticipantId,
    /// The sanitised reason, possibly empty.
    pub reason: String,
}

/// Everything a session asks its driver to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Deliver an event.
    Event {
        /// To whom.
        to: Audience,
        /// What.
        event: Event,
    },
    /// Write these bytes to the agent's terminal. `author` is who typed or released them.
    AgentInput {
        /// Who typed or released them.
        author: ParticipantId,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// Resize the agent's terminal.
    AgentResize {
        /// Columns.
        cols: u16,
        /// Rows.
        rows: u16,
    },
    /// Persist a report. It never bans anyone by itself.
    Report(Report),
    /// The host's decision on a request held by Roulette, for the host agent only.
    ApprovalDecision {
        /// Which request.
        id: ApprovalId,
        /// Allow or deny.
        allow: bool,
        /// The host's reason, sanitised (may be empty).
        reason: String,
    },
}

/// The queue of outputs, with helpers for the common shapes.
#[derive(Debug, Default)]
pub(crate) struct Outbox(VecDeque<Output>);

impl Outbox {
    pub(crate) fn both(&mut self, event: Event) {
        self.0.push_back(Output::Event {
            to: Audience::Both,
            event,
        });
    }

    pub(crate) fn only(&mut self, who: ParticipantId, event: Event) {
        self.0.push_back(Output::Event {
            to: Audience::Only(who),
            event,
        });
    }

    pub(crate) fn push(&mut self, output: Output) {
        self.0.push_back(output);
    }

    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.0.pop_front()
    }
}
