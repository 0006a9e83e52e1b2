//! The matchmaker: a FIFO queue that pairs waiting participants, and invites that pair a named
//! friend.
//!
//! Rules, each covered by a test in `tests/matchmaker.rs`:
//! - Entries wait in arrival order; a newcomer pairs with the earliest waiting entry it is
//!   compatible with.
//! - Two pairing entries are compatible when at least one can host (has a host agent connected).
//!   The host is the one that can; if both can, the lower latency; equal latency, the earlier in
//!   the queue.
//! - Chat-only entries pair with any other chat-only entry; nobody hosts.
//! - One slot per [`MatchKey`]: a key that is queued or holds an open invite cannot wait again.
//! - Invites pair the inviter with whoever redeems the code first, before it expires. Every
//!   failure to redeem answers the same [`MatchError::InviteInvalid`].
//! - Pairs kept apart with [`Matchmaker::keep_apart`] (after a rematch, a skip or a report) are
//!   not paired again until the configured time has passed.
//! - [`Matchmaker::requeue`] puts someone whose session ended without fault at the head of the
//!   queue.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::error::MatchError;
use crate::ids::{MatchKey, ParticipantId, RoomId};
use crate::invite::{Invite, InviteCode, InviteHash};

/// What a room is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A pairing session around a hosted agent.
    Pairing,
    /// A chat-only conversation (the waiting-room chat roulette).
    Chat,
}

/// Someone who wants a partner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The connected participant.
    pub participant: ParticipantId,
    /// Who they are for queueing purposes.
    pub key: MatchKey,
    /// The kind of room they want.
    pub kind: RoomKind,
    /// Whether a host agent is connected for them, so their machine can run the agent.
    pub can_host: bool,
    /// Their measured round-trip time to the server.
    pub latency: Duration,
}

/// How a pair was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchVia {
    /// Through the waiting queue.
    Queue,
    /// Through an invite code.
    Invite,
}

/// A new pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// The room the pair goes to.
    pub room: RoomId,
    /// The room's kind.
    pub kind: RoomKind,
    /// The participant whose machine runs the agent; `None` for chat rooms.
    pub host: Option<ParticipantId>,
    /// Both partners. For pairing rooms the host comes first; otherwise queue order.
    pub partners: [Candidate; 2],
    /// Queue or invite.
    pub via: MatchVia,
}

/// Why a pair is kept apart, which decides for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Separation {
    /// One of them took the no-fault rematch.
    Rematch,
    /// One of them skipped to a new partner.
    Skip,
    /// One of them reported the other.
    Report,
}

/// What the matchmaker tells its driver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchmakerOutput {
    /// Two participants were paired and should be moved into a new room.
    Matched(Match),
    /// An invite lapsed unused; whoever persisted it may delete it.
    InviteExpired(InviteHash),
}

/// Durations and limits of the matchmaker.
#[derive(Clone, Debug)]
pub struct MatchmakerConfig {
    /// How long an invite can be redeemed.
    pub invite_ttl: Duration,
    /// How long a pair that rematched is kept apart.
    pub rematch_separation: Duration,
    /// How long a pair where one skipped the other is kept apart.
    pub skip_separation: Duration,
    /// How long a pair where one reported the other is kept apart.
    pub report_separation: Duration,
    /// Most entries the queue holds.
    pub max_queue: usize,
    /// Most open invites at once.
    pub max_invites: usize,
    /// The first room id handed out; servers sharing a store give each node its own range.
    pub first_room_id: u64,
}

impl Default for MatchmakerConfig {
    fn default() -> Self {
        Self {
            invite_ttl: Duration::from_secs(24 * 60 * 60),
            rematch_separation: Duration::from_secs(60 * 60),
            skip_separation: Duration::from_secs(30 * 60),
            report_separation: Duration::from_secs(30 * 24 * 60 * 60),
            max_queue: 100_000,
            max_invites: 100_000,
            first_room_id: 1,
        }
    }
}

/// An unordered pair of keys.
type PairKey = (MatchKey, MatchKey);

fn pair_key(a: &MatchKey, b: &MatchKey) -> PairKey {
    if a <= b {
        (a.clone(), b.clone())
    } else {
        (b.clone(), a.clone())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deadline {
    Invite(InviteHash),
    Apart(PairKey),
}

/// The matchmaker state machine. See the [module docs](self) for its rules.
#[derive(Debug)]
pub struct Matchmaker {
    config: MatchmakerConfig,
    queue: VecDeque<Candidate>,
    invites: HashMap<InviteHash, Invite>,
    apart: HashMap<PairKey, Instant>,
    /// Deadlines with lazy deletion: an entry is live only if the map still holds that instant.
    deadlines: BinaryHeap<Reverse<(Instant, Deadline)>>,
    outputs: VecDeque<MatchmakerOutput>,
    next_room: u64,
}

impl Matchmaker {
    /// An empty matchmaker.
    pub fn new(config: MatchmakerConfig) -> Self {
        let next_room = config.first_room_id;
        Self {
            config,
            queue: VecDeque::new(),
            invites: HashMap::new(),
            apart: HashMap::new(),
            deadlines: BinaryHeap::new(),
            outputs: VecDeque::new(),
            next_room,
        }
    }

    /// Adds `candidate` to the back of the queue, then pairs them if anyone waiting is compatible.
    pub fn enqueue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError> {
        self.check_can_wait(&candidate)?;
        self.queue.push_back(candidate);
        self.match_newcomer(now, self.queue.len() - 1);
        Ok(())
    }

    /// Like [`enqueue`](Self::enqueue), but at the head of the queue: for someone whose session
    /// ended without fault (a rematch or a skip), so they do not lose their turn.
    pub fn requeue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError> {
        self.check_can_wait(&candidate)?;
        self.queue.push_front(candidate);
        self.match_newcomer(now, 0);
        Ok(())
    }

    /// Removes the participant's queue slot and any invite they opened.
    pub fn leave(&mut self, participant: ParticipantId) -> Result<(), MatchError> {
        let before = self.queue.len() + self.invites.len();
        self.queue.retain(|c| c.participant != participant);
        self.invites
            .retain(|_, i| i.inviter.participant != participant);
        if self.queue.len() + self.invites.len() == before {
            return Err(MatchError::NotWaiting);
        }
        Ok(())
    }

    /// Records a new latency measurement for a waiting participant.
    pub fn update_latency(&mut self, participant: ParticipantId, latency: Duration) {
        for c in self.waiting_mut(participant) {
            c.latency = latency;
        }
    }

    /// Records that a host agent connected for (or left) a waiting participant. Someone who can
    /// now host may pair with someone already waiting.
    pub fn set_can_host(&mut self, now: Instant, participant: ParticipantId, can_host: bool) {
        let mut changed = false;
        for c in self.waiting_mut(participant) {
            changed |= c.can_host != can_host;
            c.can_host = can_host;
        }
        if changed {
            self.match_all(now);
        }
    }

    /// Opens an invite for `inviter` under `code`. The server makes `code` from fresh secure random
    /// bytes and shows it once; the matchmaker keeps only its hash.
    pub fn create_invite(
        &mut self,
        now: Instant,
        inviter: Candidate,
        code: &InviteCode,
    ) -> Result<Invite, MatchError> {
        self.check_can_wait(&inviter)?;
        if self.invites.len() >= self.config.max_invites {
            return Err(MatchError::QueueFull);
        }
        let invite = Invite {
            hash: code.hash(),
            inviter,
            expires_at: now + self.config.invite_ttl,
        };
        self.insert_invite(invite.clone());
        Ok(invite)
    }

    /// Puts back an invite read from storage (after a restart). Expired ones are ignored.
    pub fn restore_invite(&mut self, now: Instant, invite: Invite) {
        if invite.expires_at > now {
            self.insert_invite(invite);
        }
    }

    fn insert_invite(&mut self, invite: Invite) {
        self.deadlines
            .push(Reverse((invite.expires_at, Deadline::Invite(invite.hash))));
        self.invites.insert(invite.hash, invite);
    }

    /// Redeems an invite code for `redeemer`. On success the pair comes out of
    /// [`poll_output`](Self::poll_output) and the code is spent. Unknown, expired, spent and
    /// one's own codes all fail the same way, and a failure spends nothing.
    pub fn redeem_invite(
        &mut self,
        now: Instant,
        code: &str,
        redeemer: Candidate,
    ) -> Result<(), MatchError> {
        let hash = InviteCode::parse(code)
            .ok_or(MatchError::InviteInvalid)?
            .hash();
        let invite = self.invites.get(&hash).ok_or(MatchError::InviteInvalid)?;
        if invite.expires_at <= now || invite.inviter.key == redeemer.key {
            return Err(MatchError::InviteInvalid);
        }
        if self.queue.iter().any(|c| c.key == redeemer.key) {
            return Err(MatchError::AlreadyWaiting);
        }
        let kind = invite.inviter.kind;
        if kind == RoomKind::Pairing && !invite.inviter.can_host && !redeemer.can_host {
            return Err(MatchError::NoHost);
        }
        let Some(invite) = self.invites.remove(&hash) else {
            return Err(MatchError::InviteInvalid);
        };
        let redeemer = Candidate { kind, ..redeemer };
        self.emit_match(invite.inviter, redeemer, MatchVia::Invite);
        Ok(())
    }

    /// Keeps two people apart for the time configured for `why`.
    pub fn keep_apart(&mut self, now: Instant, a: &MatchKey, b: &MatchKey, why: Separation) {
        let span = match why {
            Separation::Rematch => self.config.rematch_separation,
            Separation::Skip => self.config.skip_separation,
            Separation::Report => self.config.report_separation,
        };
        let until = now + span;
        let key = pair_key(a, b);
        let entry = self.apart.entry(key.clone()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
        let until = *entry;
        self.deadlines.push(Reverse((until, Deadline::Apart(key))));
    }

    /// Whether two keys are currently kept apart.
    pub fn are_kept_apart(&self, now: Instant, a: &MatchKey, b: &MatchKey) -> bool {
        self.apart
            .get(&pair_key(a, b))
            .is_some_and(|until| *until > now)
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work, if any.
    /// It may be early; an early call is harmless.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((t, _))| *t)
    }

    /// Expires invites and separations whose time has come; pairs that may now meet are matched.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut freed = false;
        while let Some(Reverse((at, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, deadline))) = self.deadlines.pop() else {
                break;
            };
            match deadline {
                Deadline::Invite(hash) => {
                    if self.invites.get(&hash).is_some_and(|i| i.expires_at == at) {
                        self.invites.remove(&hash);
                        self.outputs
                            .push_back(MatchmakerOutput::InviteExpired(hash));
                    }
                }
                Deadline::Apart(key) => {
                    if self.apart.get(&key) == Some(&at) {
                        self.apart.remove(&key);
                        freed = true;
                    }
                }
            }
        }
        if freed {
            self.match_all(now);
        }
    }

    /// The next thing to act on.
    pub fn poll_output(&mut self) -> Option<MatchmakerOutput> {
        self.outputs.pop_front()
    }

    /// Entries waiting in the queue.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// 1-based position of a participant in the queue.
    pub fn position(&self, participant: ParticipantId) -> Option<usize> {
        self.queue
            .iter()
            .position(|c| c.participant == participant)
            .map(|i| i + 1)
    }

    /// Open invites, as they would be persisted (hashes only).
    pub fn invites(&self) -> impl Iterator<Item = &Invite> {
        self.invites.values()
    }

    fn check_can_wait(&self, candidate: &Candidate) -> Result<(), MatchError> {
        let taken = self.queue.iter().any(|c| c.key == candidate.key)
            || self
                .invites
                .values()
                .any(|i| i.inviter.key == candidate.key);
        if taken {
            return Err(MatchError::AlreadyWaiting);
        }
        if self.queue.len() >= self.config.max_queue {
            return Err(MatchError::QueueFull);
        }
        Ok(())
    }

    fn waiting_mut(&mut self, participant: ParticipantId) -> impl Iterator<Item = &mut Candidate> {
        self.queue
            .iter_mut()
            .filter(move |c| c.participant == participant)
            .chain(
                self.invites
                    .values_mut()
                    .map(|i| &mut i.inviter)
                    .filter(move |c| c.participant == participant),
            )
    }

    fn compatible(&self, now: Instant, a: &Candidate, b: &Candidate) -> bool {
        a.kind == b.kind
            && a.key != b.key
            && (a.kind == RoomKind::Chat || a.can_host || b.can_host)
            && !self.are_kept_apart(now, &a.key, &b.key)
    }

    /// Pairs the entry at `index` with the earliest compatible other entry. The queue holds no
    /// compatible pair before the newcomer arrives, so only the newcomer needs checking.
    fn match_newcomer(&mut self, now: Instant, index: usize) {
        let Some(newcomer) = self.queue.get(index) else {
            return;
        };
        let partner = (0..self.queue.len())
            .filter(|&i| i != index)
            .find(|&i| self.compatible(now, &self.queue[i], newcomer));
        if let Some(other) = partner {
            self.pair_at(index, other);
        }
    }

    /// Pairs everyone who can be paired, earliest first. Used when compatibility changed for
    /// entries already waiting.
    fn match_all(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.queue.len() {
            let found = (i + 1..self.queue.len())
                .find(|&j| self.compatible(now, &self.queue[i], &self.queue[j]));
            match found {
                Some(j) => self.pair_at(i, j),
                None => i += 1,
            }
        }
    }

    fn pair_at(&mut self, a: usize, b: usize) {
        let (first, second) = (a.min(b), a.max(b));
        // Remove the later index first so the earlier one stays valid.
        let (Some(later), Some(earlier)) = (self.queue.remove(second), self.queue.remove(first))
        else {
            return;
        };
        self.emit_match(earlier, later, MatchVia::Queue);
    }

    /// `first` is the one who waited longer (or the inviter).
    fn emit_match(&mut self, first: Candidate, second: Candidate, via: MatchVia) {
        let room = RoomId(self.next_room);
        self.next_room += 1;
        let kind = first.kind;
        let (host, partners) = match kind {
            RoomKind::Chat => (None, [first, second]),
            RoomKind::Pairing => {
                let second_hosts =
                    second.can_host && (!first.can_host || second.latency < first.latency);
                let partners = if second_hosts {
                    [second, first]
                } else {
                    [first, second]
                };
                (Some(partners[0].participant), partners)
            }
        };
        self.outputs.push_back(MatchmakerOutput::Matched(Match {
            room,
            kind,
            host,
            partners,
            via,
        }));
    }
}
