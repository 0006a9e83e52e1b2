//! The building phase: driver and navigator, swaps, the timer, the check-in, the warning, the
//! extension and the rematch window.

use std::time::Instant;

use super::approvals::Approvals;
use super::event::{DriverChange, Event, IdeaView, Role};
use super::input::{LineGate, RemoteInputFilter};
use super::prompts::PromptQueue;
use super::{Session, State, building_of};
use crate::error::SessionError;
use crate::ids::ParticipantId;

/// A request that the partner must answer before it expires.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    pub(crate) by: ParticipantId,
    pub(crate) expires_at: Instant,
}

#[derive(Clone, Debug)]
pub(crate) enum CheckIn {
    /// Will be asked at this instant.
    Scheduled(Instant),
    /// Asked; these partners chose to continue so far.
    Asking {
        deadline: Instant,
        continuing: Vec<ParticipantId>,
    },
    /// Passed, or disabled.
    Done,
}

#[derive(Debug)]
pub(crate) struct Building {
    pub(crate) started_at: Instant,
    pub(crate) idea: IdeaView,
    pub(crate) driver: ParticipantId,
    pub(crate) ends_at: Instant,
    pub(crate) rematch_until: Option<Instant>,
    pub(crate) swap: Option<Request>,
    pub(crate) check_in: CheckIn,
    pub(crate) warning_at: Option<Instant>,
    pub(crate) extension: Option<Request>,
    pub(crate) extensions_used: u32,
    pub(crate) prompts: PromptQueue,
    pub(crate) gate: LineGate,
    pub(crate) filter: RemoteInputFilter,
    pub(crate) size: Option<(u16, u16)>,
    pub(crate) approvals: Approvals,
}

impl Building {
    /// Every instant at which this phase has something to do.
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = Instant> + '_ {
        let check_in = match &self.check_in {
            CheckIn::Scheduled(at) => Some(*at),
            CheckIn::Asking { deadline, .. } => Some(*deadline),
            CheckIn::Done => None,
        };
        [
            Some(self.ends_at),
            self.rematch_until,
            self.swap.map(|r| r.expires_at),
            check_in,
            self.warning_at,
            self.extension.map(|r| r.expires_at),
        ]
        .into_iter()
        .flatten()
    }
}

impl Session {
    pub(crate) fn start_building(&mut self, now: Instant, idea: IdeaView) {
        let Some(host) = self.host else {
            return;
        };
        let c = &self.config;
        let ends_at = now + c.building_duration;
        let check_in = if c.check_in_after.is_zero() || c.check_in_after >= c.building_duration {
            CheckIn::Done
        } else {
            CheckIn::Scheduled(now + c.check_in_after)
        };
        let warning_at = ends_at
            .checked_sub(c.warning_before_end)
            .filter(|t| *t > now && !c.warning_before_end.is_zero());
        let rematch_until = now + c.rematch_window;
        self.outbox.both(Event::BuildingStarted {
            idea: idea.clone(),
            host,
            driver: host,
            ends_in: c.building_duration,
            rematch_for: c.rematch_window,
        });
        self.state = State::Building(Box::new(Building {
            started_at: now,
            idea,
            driver: host,
            ends_at,
            rematch_until: Some(rematch_until),
            swap: None,
            check_in,
            warning_at,
            extension: None,
            extensions_used: 0,
            prompts: PromptQueue::default(),
            gate: LineGate::default(),
            filter: RemoteInputFilter::default(),
            size: None,
            approvals: Approvals::default(),
        }));
    }

    pub(crate) fn building(&self) -> Option<&Building> {
        match &self.state {
            State::Building(b) => Some(b),
            _ => None,
        }
    }

    /// The current driver, while building.
    pub fn driver(&self) -> Option<ParticipantId> {
        self.building().map(|b| b.driver)
    }

    /// A partner's role, while building.
    pub fn role_of(&self, who: ParticipantId) -> Option<Role> {
        let b = self.building()?;
        self.seat(who).ok()?;
        Some(if b.driver == who {
            Role::Driver
        } else {
            Role::Navigator
        })
    }

    /// The project chosen by the vote, while building.
    pub fn chosen_idea(&self) -> Option<&IdeaView> {
        self.building().map(|b| &b.idea)
    }

    /// When the timer runs out, while building.
    pub fn ends_at(&self) -> Option<Instant> {
        self.building().map(|b| b.ends_at)
    }

    /// Asks the partner to swap roles. Either partner may ask; the partner must accept.
    pub fn handle_request_swap(
        &mut self,
        now: Instant,
        who: ParticipantId,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let timeout = self.config.request_timeout;
        let b = building_of(&mut self.state, self.kind)?;
        if b.swap.is_some() {
            return Err(SessionError::RequestPending);
        }
        b.swap = Some(Request {
            by: who,
            expires_at: now + timeout,
        });
        self.outbox.both(Event::SwapRequested {
            by: who,
            expires_in: timeout,
        });
        Ok(())
    }

    /// Answers the partner's swap request.
    pub fn handle_answer_swap(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        accept: bool,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let other = self.partner_of(who)?;
        let b = building_of(&mut self.state, self.kind)?;
        match b.swap {
            Some(r) if r.by != who => {}
            _ => return Err(SessionError::NoRequest),
        }
        let new_driver = if b.driver == who { other } else { who };
        if accept && Some(new_driver) != self.host && b.approvals.dialog_open() {
            // The agent's own dialog answers to whoever drives: it stays the host's.
            return Err(SessionError::AgentWaitsForHost);
        }
        b.swap = None;
        if accept {
            self.change_driver(new_driver, DriverChange::Swapped);
        } else {
            self.outbox.both(Event::SwapDeclined { by: who });
        }
        Ok(())
    }

    /// The host takes the driver role back, at once and without asking.
    pub fn handle_reclaim(
        &mut self,
        _now: Instant,
        who: ParticipantId,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        if self.host != Some(who) {
            return Err(SessionError::NotHost);
        }
        let b = building_of(&mut self.state, self.kind)?;
        if b.driver == who {
            return Err(SessionError::AlreadyDriver);
        }
        if b.swap.take().is_some() {
            self.outbox.both(Event::SwapExpired);
        }
        self.change_driver(who, DriverChange::Reclaimed);
        Ok(())
    }

    /// Hands the wheel over. Whatever the former driver left held is discarded, so no input of
    /// theirs reaches the agent after this point.
    fn change_driver(&mut self, driver: ParticipantId, why: DriverChange) {
        let State::Building(b) = &mut self.state else {
            return;
        };
        b.driver = driver;
        b.filter = RemoteInputFilter::default();
        if let Some(id) = b.gate.discard() {
            self.outbox.both(Event::LineRejected { id });
        }
        self.outbox.both(Event::DriverChanged { driver, why });
    }

    /// Answers the halfway check-in. Both must choose to continue; one "no" ends the session.
    pub fn handle_check_in(
        &mut self,
        now: Instant,
        who: ParticipantId,
        keep_going: bool,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let b = building_of(&mut self.state, self.kind)?;
        let CheckIn::Asking { continuing, .. } = &mut b.check_in else {
            return Err(SessionError::NoCheckIn);
        };
        if continuing.contains(&who) {
            return Err(SessionError::NoCheckIn);
        }
        self.outbox.both(Event::CheckInAnswered { who, keep_going });
        if !keep_going {
            self.end(now, super::EndReason::CheckInDeclined { by: Some(who) });
            return Ok(());
        }
        continuing.push(who);
        if continuing.len() == 2 {
            b.check_in = CheckIn::Done;
            self.outbox.both(Event::CheckInPassed);
        }
        Ok(())
    }

    /// Asks the partner for the one extension.
    pub fn handle_request_extension(
        &mut self,
        now: Instant,
        who: ParticipantId,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let (max, timeout) = (self.config.max_extensions, self.config.request_timeout);
        let b = building_of(&mut self.state, self.kind)?;
        if b.extensions_used >= max {
            return Err(SessionError::ExtensionUsed);
        }
        if b.extension.is_some() {
            return Err(SessionError::RequestPending);
        }
        b.extension = Some(Request {
            by: who,
            expires_at: now + timeout,
        });
        self.outbox.both(Event::ExtensionRequested {
            by: who,
            expires_in: timeout,
        });
        Ok(())
    }

    /// Answers the partner's extension request.
    pub fn handle_answer_extension(
        &mut self,
        now: Instant,
        who: ParticipantId,
        accept: bool,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let (extension, warn_before) = (self.config.extension, self.config.warning_before_end);
        let b = building_of(&mut self.state, self.kind)?;
        match b.extension {
            Some(r) if r.by != who => {}
            _ => return Err(SessionError::NoRequest),
        }
        b.extension = None;
        if !accept {
            self.outbox.both(Event::ExtensionDeclined { by: who });
            return Ok(());
        }
        b.extensions_used += 1;
        b.ends_at += extension;
        // The warning comes again before the new end, unless that moment has already passed.
        b.warning_at = b
            .ends_at
            .checked_sub(warn_before)
            .filter(|t| *t > now && !warn_before.is_zero());
        let ends_in = b.ends_at.saturating_duration_since(now);
        self.outbox.both(Event::Extended { ends_in });
        Ok(())
    }

    /// Resizes the agent's terminal. Only the driver's size counts.
    pub fn handle_resize(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        cols: u16,
        rows: u16,
    ) -> Result<(), SessionError> {
        self.check_write(who, super::WriteAction::Resize)?;
        let (max_cols, max_rows) = self.config.max_terminal_size;
        if !(2..=max_cols).contains(&cols) || !(1..=max_rows).contains(&rows) {
            return Err(SessionError::InvalidSize { cols, rows });
        }
        let b = building_of(&mut self.state, self.kind)?;
        if b.size == Some((cols, rows)) {
            return Ok(());
        }
        b.size = Some((cols, rows));
        self.outbox.push(super::Output::AgentResize { cols, rows });
        self.outbox.both(Event::Resized { cols, rows });
        Ok(())
    }

    /// Runs the building phase's timers that are due.
    pub(crate) fn building_timeouts(&mut self, now: Instant) {
        let State::Building(b) = &mut self.state else {
            return;
        };
        if b.swap.is_some_and(|r| r.expires_at <= now) {
            b.swap = None;
            self.outbox.both(Event::SwapExpired);
        }
        if b.extension.is_some_and(|r| r.expires_at <= now) {
            b.extension = None;
            self.outbox.both(Event::ExtensionExpired);
        }
        if b.rematch_until.is_some_and(|t| t <= now) {
            b.rematch_until = None;
            self.outbox.both(Event::RematchClosed);
        }
        match &b.check_in {
            CheckIn::Scheduled(at) if *at <= now => {
                let respond_within = self.config.check_in_timeout;
                b.check_in = CheckIn::Asking {
                    deadline: now + respond_within,
                    continuing: Vec::new(),
                };
                self.outbox.both(Event::CheckIn { respond_within });
            }
            CheckIn::Asking { deadline, .. } if *deadline <= now => {
                self.end(now, super::EndReason::CheckInDeclined { by: None });
                return;
            }
            _ => {}
        }
        if b.warning_at.is_some_and(|t| t <= now) {
            b.warning_at = None;
            let remaining = b.ends_at.saturating_duration_since(now);
            self.outbox.both(Event::Warning { remaining });
        }
        if b.ends_at <= now {
            self.end(now, super::EndReason::Timer {});
        }
    }
}
