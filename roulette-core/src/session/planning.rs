//! The planning phase: three drawn ideas, ideas of one's own, up/down votes, and the choice.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::collections::HashMap;
use std::time::Instant;

use super::event::{Event, IdeaView, Vote};
use super::{Session, State, clean_text};
use crate::error::SessionError;
use crate::ideas::BUILT_IN_IDEAS;
use crate::ids::{IdeaId, ParticipantId};
use crate::sanitize::TextField;

#[derive(Debug)]
pub(crate) struct Planning {
    pub(crate) ideas: Vec<IdeaView>,
    votes: HashMap<(IdeaId, ParticipantId), Vote>,
    pub(crate) deadline: Instant,
}

impl Planning {
    pub(crate) fn new(seed: u64, drawn: usize, deadline: Instant) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // A partial Fisher-Yates shuffle over the indices of the built-in list.
        let mut order: Vec<usize> = (0..BUILT_IN_IDEAS.len()).collect();
        let drawn = drawn.min(order.len());
        for i in 0..drawn {
            let span = (order.len() - i) as u64;
            let j = i + (rng.next_u64() % span) as usize;
            order.swap(i, j);
        }
        let ideas = order[..drawn]
            .iter()
            .enumerate()
            .map(|(n, &i)| IdeaView {
                id: IdeaId(n as u64 + 1),
                text: BUILT_IN_IDEAS[i].to_string(),
                author: None,
            })
            .collect();
        Self {
            ideas,
            votes: HashMap::new(),
            deadline,
        }
    }

    pub(crate) fn tally(&self, idea: IdeaId) -> (u32, u32) {
        self.votes.iter().filter(|((i, _), _)| *i == idea).fold(
            (0, 0),
            |(up, down), (_, v)| match v {
                Vote::Up => (up + 1, down),
                Vote::Down => (up, down + 1),
                Vote::Clear => (up, down),
            },
        )
    }

    /// The idea both partners voted up, if `idea` just became one.
    fn agreed(&self, idea: IdeaId, partners: [ParticipantId; 2]) -> Option<IdeaView> {
        let both_up = partners
            .iter()
            .all(|p| self.votes.get(&(idea, *p)) == Some(&Vote::Up));
        both_up
            .then(|| self.ideas.iter().find(|i| i.id == idea).cloned())
            .flatten()
    }

    /// The best idea at the deadline: highest up-minus-down, then most up votes, then the one
    /// listed first (drawn ideas before added ones, in order).
    pub(crate) fn winner(&self) -> Option<IdeaView> {
        self.ideas
            .iter()
            .enumerate()
            .max_by_key(|(index, idea)| {
                let (up, down) = self.tally(idea.id);
                (
                    i64::from(up) - i64::from(down),
                    up,
                    std::cmp::Reverse(*index),
                )
            })
            .map(|(_, idea)| idea.clone())
    }
}

impl Session {
    /// Adds a partner's own idea to the vote.
    pub fn handle_add_idea(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        text: &str,
    ) -> Result<IdeaId, SessionError> {
        self.seat(who)?;
        self.planning_mut()?;
        let max_ideas = self.config.max_ideas;
        let text = clean_text(TextField::Idea, text, self.config.idea_max_chars)?;
        let planning = self.planning_mut()?;
        if planning.ideas.len() >= max_ideas {
            return Err(SessionError::TooManyIdeas { max: max_ideas });
        }
        let id = IdeaId(planning.ideas.len() as u64 + 1);
        let idea = IdeaView {
            id,
            text,
            author: Some(who),
        };
        planning.ideas.push(idea.clone());
        self.outbox.both(Event::IdeaAdded { idea });
        Ok(id)
    }

    /// Records a vote. When both partners have voted the same idea up, it is chosen at once.
    pub fn handle_vote(
        &mut self,
        now: Instant,
        who: ParticipantId,
        idea: IdeaId,
        vote: Vote,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let partners = self.partners;
        let planning = self.planning_mut()?;
        if !planning.ideas.iter().any(|i| i.id == idea) {
            return Err(SessionError::UnknownIdea);
        }
        match vote {
            Vote::Clear => planning.votes.remove(&(idea, who)),
            v => planning.votes.insert((idea, who), v),
        };
        let (up, down) = planning.tally(idea);
        let agreed = planning.agreed(idea, partners);
        self.outbox.both(Event::Tally { idea, up, down });
        if let Some(chosen) = agreed {
            self.start_building(now, chosen);
        }
        Ok(())
    }

    /// The ideas being voted on, while planning.
    pub fn ideas(&self) -> Option<&[IdeaView]> {
        match &self.state {
            State::Planning(p) => Some(&p.ideas),
            _ => None,
        }
    }

    fn planning_mut(&mut self) -> Result<&mut Planning, SessionError> {
        match &mut self.state {
            State::Planning(p) => Ok(p),
            _ if self.kind == crate::matchmaker::RoomKind::Chat => Err(SessionError::WrongRoomKind),
            other => Err(SessionError::WrongPhase {
                actual: other.phase(),
            }),
        }
    }
}
