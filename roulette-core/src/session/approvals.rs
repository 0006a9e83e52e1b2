//! What the agent asks before it acts on the host's machine, and who may answer.
//!
//! The host agent sees the agent's tool calls (for Claude Code, through its hooks) and reports
//! the ones that wait for the host here, so that every participant sees that the agent waits,
//! and for what. Only the host answers: a decision from anyone else is refused. The host agent
//! holds the request itself (and denies it when the host does not answer in time, or when it
//! cannot be reached): the session only tells everyone, routes the host's decision from the page
//! to the host agent, and keeps an open dialog of the agent's from changing hands in a swap.

use serde::{Deserialize, Serialize};
use std::time::Instant;

use super::event::{Event, Output};
use super::{Session, building_of};
use crate::error::SessionError;
use crate::ids::{ApprovalId, ParticipantId};
use crate::safety::{SafetyWarning, check_prompt};
use crate::sanitize::{TextField, sanitize};

/// Longest tool name kept, in characters.
pub const MAX_TOOL_CHARS: usize = 64;
/// Longest summary of a tool call kept, in characters.
pub const MAX_SUMMARY_CHARS: usize = 2000;
/// Longest reason for a decision kept, in characters.
pub const MAX_REASON_CHARS: usize = 300;
/// Most requests waiting at once; the agent asks one at a time, so more is a misbehaving host
/// agent.
pub const MAX_PENDING_APPROVALS: usize = 16;

/// Where the host answers a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPlace {
    /// Roulette holds the request: the host allows or denies it in the page or the host's
    /// terminal. Made while someone else drove.
    Roulette,
    /// The agent shows its own dialog, at the host's keyboard: the host drove when it asked.
    /// While it is open the host cannot hand driving to anyone else.
    AgentScreen,
}

/// A tool call the host agent reports as waiting for the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalRequest {
    /// Its id, chosen by the host agent.
    pub id: ApprovalId,
    /// The tool (`Bash`, `Edit`, `mcp__server__tool`...).
    pub tool: String,
    /// What it would do: the command, the file and the size of the change.
    pub summary: String,
    /// Where the host answers it.
    pub place: ApprovalPlace,
}

/// A waiting request as participants see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalView {
    /// Its id.
    pub id: ApprovalId,
    /// The tool, sanitised.
    pub tool: String,
    /// What it would do, sanitised.
    pub summary: String,
    /// Why the host should look twice; empty when nothing looks risky.
    pub warnings: Vec<SafetyWarning>,
    /// Where the host answers it.
    pub place: ApprovalPlace,
    /// Who drove when the agent asked.
    pub driver: ParticipantId,
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    /// The host allowed it.
    Allowed,
    /// The host denied it.
    Denied,
    /// Nobody answered in time, so it was denied.
    TimedOut,
    /// The agent stopped waiting (it moved on, was interrupted or exited).
    Withdrawn,
}

/// How the host agent guards the agent while someone else drives; shown to everyone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPolicy {
    /// The agent's tool calls reach Roulette (Claude Code's hooks): its permission requests
    /// made while someone else drives go to the host.
    pub approvals: bool,
    /// While someone else drives, every tool call that can change something waits for the
    /// host, whatever the host's own allow rules say. `false` when the host opted out.
    pub hold_changes: bool,
    /// Every key a remote driver presses waits for the host (for programs with dialogs of
    /// their own that Roulette cannot see).
    pub hold_keys: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Approvals {
    waiting: Vec<Waiting>,
}

#[derive(Debug)]
struct Waiting {
    view: ApprovalView,
    /// The host's decision went to the host agent; it reports the outcome.
    decided: bool,
}

impl Approvals {
    pub(crate) fn views(&self) -> impl Iterator<Item = &ApprovalView> {
        self.waiting.iter().map(|w| &w.view)
    }

    /// Forgets every request; returns their ids.
    pub(crate) fn take_all(&mut self) -> Vec<ApprovalId> {
        self.waiting.drain(..).map(|w| w.view.id).collect()
    }

    /// Whether the agent shows a dialog of its own that the host must answer.
    pub(crate) fn dialog_open(&self) -> bool {
        self.waiting
            .iter()
            .any(|w| w.view.place == ApprovalPlace::AgentScreen)
    }
}

/// The summary as shown: sanitised, and when cut, saying so (a long command's end is where a
/// stranger would hide what matters).
fn clean_summary(text: &str) -> String {
    let clean = sanitize(TextField::Prompt, text);
    let clean = clean.trim();
    let total = clean.chars().count();
    if total <= MAX_SUMMARY_CHARS {
        return clean.to_string();
    }
    let shown: String = clean.chars().take(MAX_SUMMARY_CHARS).collect();
    format!(
        "{shown} … [{} more characters not shown: read the whole call on the agent's screen before you allow it]",
        total - MAX_SUMMARY_CHARS
    )
}

fn clean(field: TextField, text: &str, max_chars: usize) -> String {
    sanitize(field, text)
        .trim()
        .chars()
        .take(max_chars)
        .collect()
}

impl Session {
    /// The host agent says how it guards the agent. Only the host's connection may.
    pub fn handle_agent_policy(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        policy: AgentPolicy,
    ) -> Result<(), SessionError> {
        self.only_host(who)?;
        self.not_ended_pairing()?;
        if self.agent_policy != Some(policy) {
            self.agent_policy = Some(policy);
            self.outbox.both(Event::AgentPolicyChanged { policy });
        }
        Ok(())
    }

    /// How the host agent guards the agent, once it has said.
    pub fn agent_policy(&self) -> Option<AgentPolicy> {
        self.agent_policy
    }

    /// The host agent reports a tool call that waits for the host. Everyone is told, with the
    /// prompt-safety warnings that apply to what it would do.
    pub fn handle_approval_request(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        request: ApprovalRequest,
    ) -> Result<(), SessionError> {
        self.only_host(who)?;
        let b = building_of(&mut self.state, self.kind)?;
        if b.approvals.waiting.iter().any(|w| w.view.id == request.id) {
            return Err(SessionError::UnknownApproval);
        }
        if b.approvals.waiting.len() >= MAX_PENDING_APPROVALS {
            return Err(SessionError::TooManyApprovals {
                max: MAX_PENDING_APPROVALS,
            });
        }
        let summary = clean_summary(&request.summary);
        let view = ApprovalView {
            id: request.id,
            tool: clean(TextField::Name, &request.tool, MAX_TOOL_CHARS),
            warnings: check_prompt(&summary),
            summary,
            place: request.place,
            driver: b.driver,
        };
        b.approvals.waiting.push(Waiting {
            view: view.clone(),
            decided: false,
        });
        self.outbox.both(Event::ApprovalWaiting { approval: view });
        Ok(())
    }

    /// The host allows or denies a request held by Roulette (from the page). Anyone else is
    /// refused. The decision goes to the host agent, which answers the agent and reports the
    /// outcome.
    pub fn handle_decide_approval(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        id: ApprovalId,
        allow: bool,
        reason: &str,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        self.only_host(who)?;
        let b = building_of(&mut self.state, self.kind)?;
        let waiting = b
            .approvals
            .waiting
            .iter_mut()
            .find(|w| w.view.id == id && w.view.place == ApprovalPlace::Roulette && !w.decided)
            .ok_or(SessionError::UnknownApproval)?;
        waiting.decided = true;
        self.outbox.push(Output::ApprovalDecision {
            id,
            allow,
            reason: clean(TextField::Chat, reason, MAX_REASON_CHARS),
        });
        Ok(())
    }

    /// The host agent reports how a request ended (the host answered, the time ran out, the
    /// agent moved on). Everyone is told.
    pub fn handle_approval_resolved(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        id: ApprovalId,
        outcome: ApprovalOutcome,
        reason: &str,
    ) -> Result<(), SessionError> {
        self.only_host(who)?;
        let b = building_of(&mut self.state, self.kind)?;
        let at = b
            .approvals
            .waiting
            .iter()
            .position(|w| w.view.id == id)
            .ok_or(SessionError::UnknownApproval)?;
        b.approvals.waiting.remove(at);
        self.outbox.both(Event::ApprovalResolved {
            id,
            outcome,
            reason: clean(TextField::Chat, reason, MAX_REASON_CHARS),
        });
        Ok(())
    }

    /// The requests waiting for the host.
    pub fn waiting_approvals(&self) -> Vec<ApprovalView> {
        self.building()
            .map(|b| b.approvals.views().cloned().collect())
            .unwrap_or_default()
    }

    fn only_host(&self, who: ParticipantId) -> Result<(), SessionError> {
        if self.host != Some(who) {
            return Err(SessionError::NotHost);
        }
        Ok(())
    }
}
