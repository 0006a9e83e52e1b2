//! A pairing session (or a chat-only room) as a sans-IO state machine.
//!
//! Inputs are `handle_*(now, ..)` calls; each either changes the session and queues outputs, or
//! returns a [`SessionError`] and changes nothing. Outputs come out of
//! [`Session::poll_output`]; timers are [`Session::poll_timeout`] and
//! [`Session::handle_timeout`]. The session never reads a clock.
//!
//! Phases: [`Phase::Planning`] (vote on a project) -> [`Phase::Building`] (driver and
//! navigator against the timer) -> [`Phase::Ended`] with an [`EndReason`]. Chat-only rooms go
//! [`Phase::Chatting`] -> [`Phase::Ended`].

mod approvals;
mod building;
mod config;
mod event;
mod input;
mod planning;
mod prompts;

pub use approvals::{
    AgentPolicy, ApprovalOutcome, ApprovalPlace, ApprovalRequest, ApprovalView,
    MAX_PENDING_APPROVALS, MAX_REASON_CHARS, MAX_SUMMARY_CHARS, MAX_TOOL_CHARS,
};
pub use config::SessionConfig;
pub use event::{
    Audience, DriverChange, EndReason, Event, IdeaView, Output, Phase, PromptStage, PromptView,
    Report, Role, Vote,
};
pub use input::RemoteInputFilter;
pub use prompts::bracketed_paste;

use std::time::Instant;

use building::Building;
use event::Outbox;
use planning::Planning;

use crate::error::SessionError;
use crate::ids::{LineId, ParticipantId, PromptId, RoomId};
use crate::matchmaker::{Match, RoomKind};
use crate::rate_limit::TokenBucket;
use crate::sanitize::{TextField, sanitize};

/// Who is in a new room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomSetup {
    /// The room.
    pub room: RoomId,
    /// Pairing or chat-only.
    pub kind: RoomKind,
    /// The two partners.
    pub partners: [ParticipantId; 2],
    /// Whose machine runs the agent; required for pairing rooms, absent for chat rooms.
    pub host: Option<ParticipantId>,
}

impl From<&Match> for RoomSetup {
    fn from(m: &Match) -> Self {
        Self {
            room: m.room,
            kind: m.kind,
            partners: [m.partners[0].participant, m.partners[1].participant],
            host: m.host,
        }
    }
}

/// What a participant wants to send towards the agent; see [`Session::check_write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteAction {
    /// Keystrokes into the terminal.
    Input,
    /// A prompt submitted directly (not a suggestion).
    Prompt,
    /// A terminal resize.
    Resize,
}

#[derive(Debug)]
pub(crate) enum State {
    Planning(Planning),
    Building(Box<Building>),
    Chatting { idle_at: Instant },
    Ended(EndReason),
}

impl State {
    pub(crate) fn phase(&self) -> Phase {
        match self {
            State::Planning(_) => Phase::Planning,
            State::Building(_) => Phase::Building,
            State::Chatting { .. } => Phase::Chatting,
            State::Ended(_) => Phase::Ended,
        }
    }
}

#[derive(Debug)]
struct Seat {
    chat: TokenBucket,
    away_until: Option<Instant>,
}

#[derive(Debug, Default)]
pub(crate) struct IdAlloc {
    prompt: u64,
    line: u64,
}

impl IdAlloc {
    pub(crate) fn next_prompt(&mut self) -> PromptId {
        self.prompt += 1;
        PromptId(self.prompt)
    }

    pub(crate) fn next_line(&mut self) -> LineId {
        self.line += 1;
        LineId(self.line)
    }
}

/// One room's state machine. See the [module docs](self).
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    room: RoomId,
    kind: RoomKind,
    partners: [ParticipantId; 2],
    host: Option<ParticipantId>,
    seats: [Seat; 2],
    agent_away_until: Option<Instant>,
    /// How the host agent guards the agent, once it has said.
    agent_policy: Option<AgentPolicy>,
    state: State,
    outbox: Outbox,
    ids: IdAlloc,
}

impl Session {
    /// Opens a room at `now`. A pairing room starts planning (the drawn ideas are the first
    /// output); a chat room starts chatting.
    pub fn new(
        config: SessionConfig,
        now: Instant,
        setup: RoomSetup,
    ) -> Result<Self, SessionError> {
        let [a, b] = setup.partners;
        let valid = a != b
            && match setup.kind {
                RoomKind::Pairing => setup.host.is_some_and(|h| h == a || h == b),
                RoomKind::Chat => setup.host.is_none(),
            };
        if !valid {
            return Err(SessionError::InvalidSetup);
        }
        let seat = || Seat {
            chat: TokenBucket::new(config.chat_rate),
            away_until: None,
        };
        let mut outbox = Outbox::default();
        let state = match setup.kind {
            RoomKind::Pairing => {
                let seed = config.seed ^ setup.room.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let planning =
                    Planning::new(seed, config.ideas_drawn, now + config.planning_duration);
                outbox.both(Event::PlanningStarted {
                    ideas: planning.ideas.clone(),
                    ends_in: config.planning_duration,
                });
                State::Planning(planning)
            }
            RoomKind::Chat => {
                outbox.both(Event::ChatStarted);
                State::Chatting {
                    idle_at: now + config.chat_idle_timeout,
                }
            }
        };
        Ok(Self {
            seats: [seat(), seat()],
            config,
            room: setup.room,
            kind: setup.kind,
            partners: setup.partners,
            host: setup.host,
            agent_away_until: None,
            agent_policy: None,
            state,
            outbox,
            ids: IdAlloc::default(),
        })
    }

    /// The room id.
    pub fn room(&self) -> RoomId {
        self.room
    }

    /// Pairing or chat-only.
    pub fn kind(&self) -> RoomKind {
        self.kind
    }

    /// Both partners.
    pub fn partners(&self) -> [ParticipantId; 2] {
        self.partners
    }

    /// Whose machine runs the agent.
    pub fn host(&self) -> Option<ParticipantId> {
        self.host
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.state.phase()
    }

    /// Why the session ended, once it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        match self.state {
            State::Ended(r) => Some(r),
            _ => None,
        }
    }

    /// The configuration the session runs on.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The other partner.
    pub fn partner_of(&self, who: ParticipantId) -> Result<ParticipantId, SessionError> {
        let seat = self.seat(who)?;
        Ok(self.partners[1 - seat])
    }

    /// Whether `who` may send `action` towards the agent now. The server calls this for every
    /// input frame, prompt and resize before anything reaches the host agent; the `handle_*`
    /// methods for those actions call it too.
    pub fn check_write(&self, who: ParticipantId, action: WriteAction) -> Result<(), SessionError> {
        let _ = action; // Every write action needs the same: building, and driving.
        self.seat(who)?;
        match &self.state {
            State::Building(b) if b.driver == who => Ok(()),
            State::Building(_) => Err(SessionError::NotDriver),
            _ if self.kind == RoomKind::Chat => Err(SessionError::WrongRoomKind),
            other => Err(SessionError::WrongPhase {
                actual: other.phase(),
            }),
        }
    }

    /// A chat message, sanitised, capped in length and rate-limited per participant.
    pub fn handle_chat(
        &mut self,
        now: Instant,
        who: ParticipantId,
        text: &str,
    ) -> Result<(), SessionError> {
        let seat = self.seat(who)?;
        self.not_ended()?;
        let text = clean_text(TextField::Chat, text, self.config.chat_max_chars)?;
        self.seats[seat]
            .chat
            .try_take(now)
            .map_err(|retry_after| SessionError::RateLimited { retry_after })?;
        if let State::Chatting { idle_at } = &mut self.state {
            *idle_at = now + self.config.chat_idle_timeout;
        }
        self.outbox.both(Event::Chat { from: who, text });
        Ok(())
    }

    /// Tells the partner that `who` is typing.
    pub fn handle_typing(&mut self, _now: Instant, who: ParticipantId) -> Result<(), SessionError> {
        let partner = self.partner_of(who)?;
        self.not_ended()?;
        self.outbox.only(partner, Event::Typing { who });
        Ok(())
    }

    /// The no-fault rematch: open throughout planning and for the configured window after
    /// building starts. Ends the session; the server requeues both and keeps them apart.
    pub fn handle_rematch(&mut self, now: Instant, who: ParticipantId) -> Result<(), SessionError> {
        self.seat(who)?;
        if self.kind != RoomKind::Pairing {
            return Err(SessionError::WrongRoomKind);
        }
        match &self.state {
            State::Planning(_) => {}
            State::Building(b) if b.rematch_until.is_some() => {}
            State::Building(_) => return Err(SessionError::RematchClosed),
            other => {
                return Err(SessionError::WrongPhase {
                    actual: other.phase(),
                });
            }
        }
        self.end(now, EndReason::Rematch { by: who });
        Ok(())
    }

    /// Leaves a chat-only room for a new partner.
    pub fn handle_skip(&mut self, now: Instant, who: ParticipantId) -> Result<(), SessionError> {
        self.seat(who)?;
        if self.kind != RoomKind::Chat {
            return Err(SessionError::WrongRoomKind);
        }
        self.not_ended()?;
        self.end(now, EndReason::Skipped { by: who });
        Ok(())
    }

    /// Reports the partner. The reporter leaves the room (the session ends) and a
    /// [`Report`] is output for the server to persist; nobody is banned by this alone.
    pub fn handle_report(
        &mut self,
        now: Instant,
        who: ParticipantId,
        reason: &str,
    ) -> Result<(), SessionError> {
        let reported = self.partner_of(who)?;
        self.not_ended()?;
        let reason = match clean_text(TextField::Report, reason, self.config.report_max_chars) {
            Ok(reason) => reason,
            Err(SessionError::EmptyText) => String::new(),
            Err(e) => return Err(e),
        };
        self.outbox.push(Output::Report(Report {
            reporter: who,
            reported,
            reason,
        }));
        self.end(now, EndReason::Reported { by: who });
        Ok(())
    }

    /// A partner leaves on purpose.
    pub fn handle_leave(&mut self, now: Instant, who: ParticipantId) -> Result<(), SessionError> {
        self.seat(who)?;
        self.not_ended()?;
        self.end(now, EndReason::PartnerLeft { who });
        Ok(())
    }

    /// A partner's connection dropped. They have the reconnect grace period to come back before
    /// the session ends with [`EndReason::PartnerLeft`].
    pub fn handle_disconnect(
        &mut self,
        now: Instant,
        who: ParticipantId,
    ) -> Result<(), SessionError> {
        let seat = self.seat(who)?;
        self.not_ended()?;
        if self.seats[seat].away_until.is_none() {
            let grace = self.config.reconnect_grace;
            self.seats[seat].away_until = Some(now + grace);
            self.outbox
                .only(self.partners[1 - seat], Event::PartnerAway { who, grace });
        }
        Ok(())
    }

    /// A partner's connection is back.
    pub fn handle_reconnect(
        &mut self,
        _now: Instant,
        who: ParticipantId,
    ) -> Result<(), SessionError> {
        let seat = self.seat(who)?;
        self.not_ended()?;
        if self.seats[seat].away_until.take().is_some() {
            self.outbox
                .only(self.partners[1 - seat], Event::PartnerBack { who });
        }
        Ok(())
    }

    /// The host agent's connection dropped. It reconnects by itself; if it does not within the
    /// grace period, the session ends with [`EndReason::HostGone {}`].
    pub fn handle_agent_disconnect(&mut self, now: Instant) -> Result<(), SessionError> {
        if self.kind != RoomKind::Pairing {
            return Err(SessionError::WrongRoomKind);
        }
        self.not_ended()?;
        if self.agent_away_until.is_none() {
            let grace = self.config.agent_reconnect_grace;
            self.agent_away_until = Some(now + grace);
            self.outbox.both(Event::AgentAway { grace });
        }
        // What the agent waited for is the host agent's to say again when it is back (it
        // holds the requests, and may have decided some while away).
        if let State::Building(b) = &mut self.state {
            for id in b.approvals.take_all() {
                self.outbox.both(Event::ApprovalResolved {
                    id,
                    outcome: ApprovalOutcome::Withdrawn,
                    reason: String::new(),
                });
            }
        }
        Ok(())
    }

    /// The host agent is back.
    pub fn handle_agent_reconnect(&mut self, _now: Instant) -> Result<(), SessionError> {
        if self.kind != RoomKind::Pairing {
            return Err(SessionError::WrongRoomKind);
        }
        self.not_ended()?;
        if self.agent_away_until.take().is_some() {
            self.outbox.both(Event::AgentBack);
        }
        Ok(())
    }

    /// The host agent reports that the agent's process exited: the session ends, since it has
    /// nothing left to share. An exit within [`SessionConfig::agent_min_run`] of building's
    /// start (or before it) is marked early: the agent failed to start.
    pub fn handle_agent_exit(
        &mut self,
        now: Instant,
        who: ParticipantId,
        code: Option<i32>,
    ) -> Result<(), SessionError> {
        if self.host != Some(who) {
            return Err(SessionError::NotHost);
        }
        self.not_ended_pairing()?;
        let early = match &self.state {
            State::Building(b) => now < b.started_at + self.config.agent_min_run,
            _ => true,
        };
        self.end(now, EndReason::AgentExited { code, early });
        Ok(())
    }

    /// Events that bring a participant who (re)joins up to date: the phase with its time left,
    /// the tallies, the roles, what waits for a decision. Nothing changes.
    pub fn current_state(&self, now: Instant) -> Vec<Event> {
        match &self.state {
            State::Planning(p) => {
                let mut events: Vec<Event> = self
                    .agent_policy
                    .map(|policy| Event::AgentPolicyChanged { policy })
                    .into_iter()
                    .collect();
                events.push(Event::PlanningStarted {
                    ideas: p.ideas.clone(),
                    ends_in: p.deadline.saturating_duration_since(now),
                });
                events.extend(p.ideas.iter().map(|i| {
                    let (up, down) = p.tally(i.id);
                    Event::Tally {
                        idea: i.id,
                        up,
                        down,
                    }
                }));
                events
            }
            State::Building(b) => {
                let Some(host) = self.host else {
                    return Vec::new();
                };
                let mut events = vec![Event::BuildingStarted {
                    idea: b.idea.clone(),
                    host,
                    driver: b.driver,
                    ends_in: b.ends_at.saturating_duration_since(now),
                    rematch_for: b.rematch_until.map_or(std::time::Duration::ZERO, |t| {
                        t.saturating_duration_since(now)
                    }),
                }];
                if let Some((cols, rows)) = b.size {
                    events.push(Event::Resized { cols, rows });
                }
                events.extend(
                    b.prompts
                        .waiting()
                        .iter()
                        .map(|p| Event::PromptWaiting { prompt: p.clone() }),
                );
                if let Some((id, preview)) = b.gate.held_preview() {
                    events.push(Event::LineHeld { id, preview });
                }
                if let Some(policy) = self.agent_policy {
                    events.push(Event::AgentPolicyChanged { policy });
                }
                events.extend(b.approvals.views().map(|a| Event::ApprovalWaiting {
                    approval: a.clone(),
                }));
                events
            }
            State::Chatting { .. } => vec![Event::ChatStarted],
            State::Ended(reason) => vec![Event::Ended { reason: *reason }],
        }
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work. `None` once
    /// ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let phase = match &self.state {
            State::Planning(p) => Some(p.deadline),
            State::Building(b) => b.deadlines().min(),
            State::Chatting { idle_at } => Some(*idle_at),
            State::Ended(_) => return None,
        };
        self.seats
            .iter()
            .filter_map(|s| s.away_until)
            .chain(self.agent_away_until)
            .chain(phase)
            .min()
    }

    /// Runs every timer that is due at `now`. Calling it early, or twice, does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        for seat in 0..2 {
            if self.seats[seat].away_until.is_some_and(|t| t <= now) {
                let who = self.partners[seat];
                self.end(now, EndReason::PartnerLeft { who });
            }
        }
        if self.agent_away_until.is_some_and(|t| t <= now) {
            self.end(now, EndReason::HostGone {});
        }
        match &self.state {
            State::Planning(p) if p.deadline <= now => {
                let deadline = p.deadline;
                // With no idea at all (none drawn, none added), the pair builds what they like.
                let idea = p.winner().unwrap_or_else(|| IdeaView {
                    id: crate::ids::IdeaId(0),
                    text: "Free choice: build anything you like".to_string(),
                    author: None,
                });
                self.start_building(deadline, idea);
                // Building timers that fall due in the same wake-up run now too.
                self.building_timeouts(now);
            }
            State::Building(_) => self.building_timeouts(now),
            State::Chatting { idle_at } if *idle_at <= now => self.end(now, EndReason::Idle {}),
            _ => {}
        }
    }

    /// The next output, if any. Drain after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outbox.pop()
    }

    pub(crate) fn seat(&self, who: ParticipantId) -> Result<usize, SessionError> {
        self.partners
            .iter()
            .position(|p| *p == who)
            .ok_or(SessionError::NotMember)
    }

    fn not_ended_pairing(&self) -> Result<(), SessionError> {
        if self.kind != RoomKind::Pairing {
            return Err(SessionError::WrongRoomKind);
        }
        self.not_ended()
    }

    fn not_ended(&self) -> Result<(), SessionError> {
        match self.state {
            State::Ended(_) => Err(SessionError::WrongPhase {
                actual: Phase::Ended,
            }),
            _ => Ok(()),
        }
    }

    pub(crate) fn end(&mut self, _now: Instant, reason: EndReason) {
        if matches!(self.state, State::Ended(_)) {
            return;
        }
        self.state = State::Ended(reason);
        self.agent_away_until = None;
        for seat in &mut self.seats {
            seat.away_until = None;
        }
        self.outbox.both(Event::Ended { reason });
    }
}

/// Sanitises `text` for `field`, trims it, and checks it is neither empty nor too long.
pub(crate) fn clean_text(
    field: TextField,
    text: &str,
    max_chars: usize,
) -> Result<String, SessionError> {
    let clean = sanitize(field, text);
    let trimmed = clean.trim();
    if trimmed.is_empty() {
        return Err(SessionError::EmptyText);
    }
    if trimmed.chars().count() > max_chars {
        return Err(SessionError::TextTooLong { max: max_chars });
    }
    Ok(trimmed.to_string())
}

/// The building phase of `state`, or the error that says why there is none. A free function so
/// that callers can keep borrowing the session's other fields.
pub(crate) fn building_of(
    state: &mut State,
    kind: RoomKind,
) -> Result<&mut Building, SessionError> {
    match state {
        State::Building(b) => Ok(b),
        _ if kind == RoomKind::Chat => Err(SessionError::WrongRoomKind),
        other => Err(SessionError::WrongPhase {
            actual: other.phase(),
        }),
    }
}
