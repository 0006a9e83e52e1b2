//! What several relay nodes would have to share, behind one interface.
//!
//! Rooms are small and sticky: both partners talk to the node that owns their room, and
//! terminal bytes never leave it. What crosses nodes is the waiting queue with its invites and
//! separations, temporary bans, and which node owns which room. The lobby actor reaches all of
//! that only through [`SharedState`]; room actors never do. One node runs [`InProcess`]; a
//! Redis-backed implementation (the queue as a list, invites and bans as keys with expiry,
//! room ownership as keys) can replace it without touching the room actors.

use roulette_core::{
    Candidate, Invite, InviteCode, MatchError, MatchKey, Matchmaker, MatchmakerConfig,
    MatchmakerOutput, ParticipantId, RoomId, Separation,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The shared state of a cluster of relay nodes, as one node sees it.
pub trait SharedState: Send + 'static {
    /// Queues someone for a partner.
    fn enqueue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError>;
    /// Queues someone at the head (after a no-fault end).
    fn requeue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError>;
    /// Takes someone out of the queue and closes their invites.
    fn leave(&mut self, participant: ParticipantId) -> Result<(), MatchError>;
    /// Records a latency measurement.
    fn update_latency(&mut self, participant: ParticipantId, latency: Duration);
    /// Records whether a host agent is connected for someone.
    fn set_can_host(&mut self, now: Instant, participant: ParticipantId, can_host: bool);
    /// Opens an invite under `code` (kept as a hash).
    fn create_invite(
        &mut self,
        now: Instant,
        inviter: Candidate,
        code: &InviteCode,
    ) -> Result<Invite, MatchError>;
    /// Puts back an invite read from storage, for an inviter who is connected again.
    fn restore_invite(&mut self, now: Instant, invite: Invite);
    /// Redeems an invite code.
    fn redeem_invite(
        &mut self,
        now: Instant,
        code: &str,
        redeemer: Candidate,
    ) -> Result<(), MatchError>;
    /// Keeps two people apart for a while.
    fn keep_apart(&mut self, now: Instant, a: &MatchKey, b: &MatchKey, why: Separation);
    /// Someone's 1-based place in the queue.
    fn position(&self, participant: ParticipantId) -> Option<usize>;
    /// How many wait.
    fn queue_len(&self) -> usize;
    /// When [`handle_timeout`](Self::handle_timeout) next has work.
    fn poll_timeout(&self) -> Option<Instant>;
    /// Expires what is due.
    fn handle_timeout(&mut self, now: Instant);
    /// New pairs and lapsed invites.
    fn poll_output(&mut self) -> Option<MatchmakerOutput>;
    /// Claims a room for this node; `false` if another node owns it.
    fn claim_room(&mut self, room: RoomId) -> bool;
    /// Gives a room up.
    fn release_room(&mut self, room: RoomId);
    /// The node that owns a room.
    fn room_owner(&self, room: RoomId) -> Option<String>;
    /// Bans a client (by a key such as a hashed address) until `until`.
    fn ban(&mut self, who: &str, until: Instant);
    /// Whether a client is banned at `now`.
    fn is_banned(&self, who: &str, now: Instant) -> bool {
        self.ban_left(who, now).is_some()
    }
    /// How much longer a client is banned, if it is.
    fn ban_left(&self, who: &str, now: Instant) -> Option<Duration>;
}

/// Everything in this process: one node, nothing shared.
#[derive(Debug)]
pub struct InProcess {
    node: String,
    matchmaker: Matchmaker,
    rooms: HashMap<RoomId, String>,
    bans: HashMap<String, Instant>,
}

impl InProcess {
    /// The state of a single node called `node`.
    pub fn new(node: impl Into<String>, config: MatchmakerConfig) -> Self {
        Self {
            node: node.into(),
            matchmaker: Matchmaker::new(config),
            rooms: HashMap::new(),
            bans: HashMap::new(),
        }
    }
}

impl SharedState for InProcess {
    fn enqueue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError> {
        self.matchmaker.enqueue(now, candidate)
    }

    fn requeue(&mut self, now: Instant, candidate: Candidate) -> Result<(), MatchError> {
        self.matchmaker.requeue(now, candidate)
    }

    fn leave(&mut self, participant: ParticipantId) -> Result<(), MatchError> {
        self.matchmaker.leave(participant)
    }

    fn update_latency(&mut self, participant: ParticipantId, latency: Duration) {
        self.matchmaker.update_latency(participant, latency);
    }

    fn set_can_host(&mut self, now: Instant, participant: ParticipantId, can_host: bool) {
        self.matchmaker.set_can_host(now, participant, can_host);
    }

    fn create_invite(
        &mut self,
        now: Instant,
        inviter: Candidate,
        code: &InviteCode,
    ) -> Result<Invite, MatchError> {
        self.matchmaker.create_invite(now, inviter, code)
    }

    fn restore_invite(&mut self, now: Instant, invite: Invite) {
        self.matchmaker.restore_invite(now, invite);
    }

    fn redeem_invite(
        &mut self,
        now: Instant,
        code: &str,
        redeemer: Candidate,
    ) -> Result<(), MatchError> {
        self.matchmaker.redeem_invite(now, code, redeemer)
    }

    fn keep_apart(&mut self, now: Instant, a: &MatchKey, b: &MatchKey, why: Separation) {
        self.matchmaker.keep_apart(now, a, b, why);
    }

    fn position(&self, participant: ParticipantId) -> Option<usize> {
        self.matchmaker.position(participant)
    }

    fn queue_len(&self) -> usize {
        self.matchmaker.queue_len()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let bans = self.bans.values().min().copied();
        [self.matchmaker.poll_timeout(), bans]
            .into_iter()
            .flatten()
            .min()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.matchmaker.handle_timeout(now);
        self.bans.retain(|_, until| *until > now);
    }

    fn poll_output(&mut self) -> Option<MatchmakerOutput> {
        self.matchmaker.poll_output()
    }

    fn claim_room(&mut self, room: RoomId) -> bool {
        match self.rooms.get(&room) {
            Some(owner) => *owner == self.node,
            None => {
                self.rooms.insert(room, self.node.clone());
                true
            }
        }
    }

    fn release_room(&mut self, room: RoomId) {
        if self.rooms.get(&room) == Some(&self.node) {
            self.rooms.remove(&room);
        }
    }

    fn room_owner(&self, room: RoomId) -> Option<String> {
        self.rooms.get(&room).cloned()
    }

    fn ban(&mut self, who: &str, until: Instant) {
        let entry = self.bans.entry(who.to_string()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    fn ban_left(&self, who: &str, now: Instant) -> Option<Duration> {
        self.bans
            .get(who)
            .filter(|until| **until > now)
            .map(|until| until.saturating_duration_since(now))
    }
}
