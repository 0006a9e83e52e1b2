//! The lobby actor: it owns the matchmaker, knows every participant and which room they are
//! in, starts rooms, and puts people back in the queue when a room ends without fault.

use roulette_core::{
    Candidate, EndReason, InviteCode, MatchKey, MatchmakerOutput, ParticipantId, RoomId, RoomKind,
    Separation,
};
use roulette_transport::{ClientMessage, CloseCode, ErrorCode, ServerMessage, Text};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::mpsc;

use crate::config::ServerConfig;
use crate::gate::{AddrHasher, AddrKey, Gate};
use crate::metrics::Metrics;
use crate::room::{MemberInit, RoomInit, spawn_room};
use crate::shared::{InProcess, SharedState};
use crate::store::{InviteRecord, Store};
use crate::wiring::{
    ConnRef, Endpoint, LobbyCmd, Notice, Outbound, RoomClosed, RoomCmd, Welcome, sleep_until,
};

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lively", "merry",
    "nimble", "polite", "quick", "quiet", "sunny", "witty", "bold", "bright", "cheery", "cosy",
    "daring", "fuzzy", "glad", "humble", "kind", "lucky", "mellow", "plucky", "proud", "rapid",
    "sleepy", "snappy", "spry", "steady", "swift", "tidy", "upbeat", "vivid", "wise", "zesty",
];
const NOUNS: &[&str] = &[
    "otter", "heron", "falcon", "badger", "lynx", "panda", "koala", "marten", "puffin", "orca",
    "gecko", "ibis", "yak", "wombat", "finch", "newt", "beaver", "bison", "crane", "dingo",
    "egret", "ferret", "gannet", "hare", "jackal", "kestrel", "lemur", "magpie", "narwhal",
    "ocelot", "pelican", "quokka", "raven", "stoat", "tapir", "urchin", "vole", "walrus", "wren",
    "zebra",
];

/// A handle made of two words, different for neighbouring ids.
fn handle_for(participant: ParticipantId) -> String {
    let n = participant.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let a = ADJECTIVES[(n >> 32) as usize % ADJECTIVES.len()];
    let b = NOUNS[(n >> 40) as usize % NOUNS.len()];
    format!("{a}-{b}-{}", participant.0)
}

/// A chat handle: two words drawn at random, nothing else (no number that would tell how many
/// came before, or link two conversations).
fn random_handle() -> String {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    let a = ADJECTIVES[usize::from(u16::from_le_bytes([bytes[0], bytes[1]])) % ADJECTIVES.len()];
    let b = NOUNS[usize::from(u16::from_le_bytes([bytes[2], bytes[3]])) % NOUNS.len()];
    format!("{a}-{b}")
}

/// Viewer connections one participant may hold at once (several windows or devices).
const MAX_VIEWERS: usize = 256;

#[derive(Debug)]
struct Person {
    key: MatchKey,
    name: String,
    ws: Vec<ConnRef>,
    agent: Option<ConnRef>,
    room: Option<(RoomId, mpsc::Sender<RoomCmd>)>,
    latency: Duration,
    last_kind: RoomKind,
    /// A chat client's address key.
    addr: Option<AddrKey>,
}

impl Person {
    fn conns(&self) -> impl Iterator<Item = &ConnRef> {
        self.ws.iter().chain(self.agent.iter())
    }

    fn connected(&self) -> bool {
        !self.ws.is_empty() || self.agent.is_some()
    }

    fn send(&self, message: &ServerMessage) {
        for c in self.conns() {
            c.send(message);
        }
    }
}

struct Lobby {
    config: ServerConfig,
    /// The queue, invites, separations, bans and room ownership: everything that several
    /// nodes would share.
    mm: Box<dyn SharedState>,
    people: HashMap<ParticipantId, Person>,
    by_subject: HashMap<String, ParticipantId>,
    next_participant: u64,
    metrics: Metrics,
    store: Store,
    me: mpsc::Sender<LobbyCmd>,
    /// Invites read from storage after a restart, by the inviter's match key, waiting for the
    /// inviter to connect again.
    dormant: HashMap<String, Vec<InviteRecord>>,
    /// Per-address limits of chat sockets.
    gate: Gate,
    hasher: AddrHasher,
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Starts the lobby actor.
pub fn spawn_lobby(
    config: ServerConfig,
    metrics: Metrics,
    store: Store,
    hasher: AddrHasher,
) -> mpsc::Sender<LobbyCmd> {
    let (tx, mut rx) = mpsc::channel(4096);
    let mut lobby = Lobby {
        gate: Gate::new(config.chat.clone()),
        hasher,
        mm: Box::new(InProcess::new("local", config.matchmaker.clone())),
        config,
        people: HashMap::new(),
        by_subject: HashMap::new(),
        next_participant: 1,
        metrics,
        store,
        me: tx.clone(),
        dormant: HashMap::new(),
    };
    tokio::spawn(async move {
        // Invites survive a restart: they wait for their inviter to come back.
        if let Ok(records) = lobby.store.invites().await {
            let now = unix_now();
            for r in records.into_iter().filter(|r| r.expires_unix > now) {
                lobby
                    .dormant
                    .entry(r.inviter_key.clone())
                    .or_default()
                    .push(r);
            }
        }
        loop {
            let deadline = lobby.mm.poll_timeout();
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => lobby.handle(cmd),
                    None => break,
                },
                () = sleep_until(deadline), if deadline.is_some() => lobby.mm.handle_timeout(now()),
            }
            lobby.drain_matches();
            lobby.metrics.queue_length.set(lobby.mm.queue_len() as i64);
        }
    });
    tx
}

impl Lobby {
    fn handle(&mut self, cmd: LobbyCmd) {
        match cmd {
            LobbyCmd::Hello {
                subject,
                name,
                conn,
                resume_from,
                guest_token,
                addr,
                reply,
            } => {
                // A banned address gets no further, whatever its credentials.
                let banned = addr
                    .as_ref()
                    .is_some_and(|a| self.mm.is_banned(&a.0, now()));
                let answer = if banned {
                    Err(CloseCode::Banned)
                } else {
                    Ok(self.hello(subject, name, conn, resume_from, guest_token, addr))
                };
                let _ = reply.send(answer);
            }
            LobbyCmd::Admit { addr, reply } => {
                let t = now();
                let answer = match self.mm.ban_left(&addr.0, t) {
                    Some(left) => Err(crate::gate::Refusal::Banned(left)),
                    None => self.gate.admit(t, &addr),
                };
                let _ = reply.send(answer);
            }
            LobbyCmd::Release { addr } => self.gate.release(now(), &addr),
            LobbyCmd::Violation { addr } => {
                let t = now();
                if self.gate.violation(t, &addr) {
                    self.ban(t, &addr);
                }
            }
            LobbyCmd::Request {
                participant,
                conn_id,
                message,
            } => self.request(participant, conn_id, message),
            LobbyCmd::Latency { participant, rtt } => {
                if let Some(p) = self.people.get_mut(&participant) {
                    p.latency = rtt;
                    if let Some((_, room)) = &p.room {
                        let _ = room.try_send(RoomCmd::Latency { participant, rtt });
                    }
                }
                self.mm.update_latency(participant, rtt);
            }
            LobbyCmd::Gone {
                participant,
                conn_id,
                endpoint,
            } => self.gone(participant, conn_id, endpoint),
            LobbyCmd::RoomClosed(closed) => self.room_closed(closed),
        }
    }

    fn hello(
        &mut self,
        subject: String,
        name: Option<String>,
        conn: ConnRef,
        resume_from: Option<u64>,
        guest_token: Option<String>,
        addr: Option<AddrKey>,
    ) -> Welcome {
        let participant = match self.by_subject.get(&subject) {
            Some(p) => *p,
            None => {
                let p = ParticipantId(self.next_participant);
                self.next_participant += 1;
                self.by_subject.insert(subject.clone(), p);
                p
            }
        };
        let chat = conn.endpoint == Endpoint::Chat;
        let person = self.people.entry(participant).or_insert_with(|| Person {
            key: MatchKey::new(subject),
            name: name
                .map(|n| {
                    roulette_core::sanitize::sanitize(roulette_core::sanitize::TextField::Name, &n)
                })
                .filter(|n| !n.is_empty())
                .map(|n| n.chars().take(32).collect())
                .unwrap_or_else(|| {
                    if chat {
                        random_handle()
                    } else {
                        handle_for(participant)
                    }
                }),
            ws: Vec::new(),
            agent: None,
            room: None,
            latency: Duration::from_millis(100),
            last_kind: RoomKind::Pairing,
            addr: None,
        });
        if addr.is_some() {
            person.addr = addr;
        }
        let replaced = match conn.endpoint {
            // A person may watch from several windows; the oldest goes beyond the cap.
            Endpoint::Participant | Endpoint::Chat => {
                person.ws.push(conn.clone());
                (person.ws.len() > MAX_VIEWERS).then(|| person.ws.remove(0))
            }
            // One host agent per person: a new one replaces the old.
            Endpoint::Host => person.agent.replace(conn.clone()),
        };
        if let Some(old) = replaced {
            let _ = old
                .out
                .try_send(Outbound::Close(CloseCode::Replaced, "replaced"));
            let _ = old.notices.try_send(Notice::Close(CloseCode::Replaced));
        }
        // The welcome goes into the connection's queue first, so that nothing from its room
        // can overtake it.
        conn.send(&ServerMessage::Welcome {
            version: roulette_transport::PROTOCOL_VERSION,
            you: participant,
            name: Text::truncate(person.name.clone()),
            token: guest_token.map(Text::truncate),
            room: person.room.as_ref().map(|(id, _)| *id),
        });
        if let Some((_, room)) = &person.room {
            let _ = conn.notices.try_send(Notice::Room(room.clone()));
            let _ = room.try_send(RoomCmd::Attach {
                participant,
                conn: conn.clone(),
                resume_from,
            });
        }
        if person.room.is_none()
            && let Some(position) = self.mm.position(participant)
        {
            // A new window of someone already waiting (a host whose agent queued) sees it.
            conn.send(&ServerMessage::Queued {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                online: u32::try_from(self.metrics.connections.get().max(0)).unwrap_or(u32::MAX),
            });
        }
        let name = person.name.clone();
        if conn.endpoint == Endpoint::Host {
            self.mm.set_can_host(now(), participant, true);
        }
        self.wake_invites(participant);
        Welcome { participant, name }
    }

    /// Puts an inviter's stored invites back into the matchmaker now that they are connected.
    fn wake_invites(&mut self, participant: ParticipantId) {
        let Some(key) = self.people.get(&participant).map(|p| p.key.0.clone()) else {
            return;
        };
        let Some(records) = self.dormant.remove(&key) else {
            return;
        };
        let Some(inviter) = self.candidate(participant, RoomKind::Pairing) else {
            return;
        };
        let (t, unix) = (now(), unix_now());
        for r in records {
            let Some(hash) = roulette_core::InviteHash::from_hex(&r.hash_hex) else {
                continue;
            };
            let left = std::time::Duration::from_secs(r.expires_unix.saturating_sub(unix));
            self.mm.restore_invite(
                t,
                roulette_core::Invite {
                    hash,
                    inviter: inviter.clone(),
                    expires_at: t + left,
                },
            );
        }
    }

    fn candidate(&self, participant: ParticipantId, kind: RoomKind) -> Option<Candidate> {
        let p = self.people.get(&participant)?;
        Some(Candidate {
            participant,
            key: p.key.clone(),
            kind,
            can_host: p.agent.is_some(),
            latency: p.latency,
        })
    }

    fn reply(&self, participant: ParticipantId, conn_id: u64, message: &ServerMessage) {
        if let Some(p) = self.people.get(&participant) {
            for c in p.conns().filter(|c| c.conn_id == conn_id) {
                c.send(message);
            }
        }
    }

    fn endpoint_of(&self, participant: ParticipantId, conn_id: u64) -> Option<Endpoint> {
        let p = self.people.get(&participant)?;
        p.conns().find(|c| c.conn_id == conn_id).map(|c| c.endpoint)
    }

    /// Bans an address for the configured time and closes its chat sockets.
    fn ban(&mut self, t: std::time::Instant, addr: &AddrKey) {
        self.mm.ban(&addr.0, t + self.config.chat.ban_for);
        tracing::warn!(
            minutes = self.config.chat.ban_for.as_secs() / 60,
            "an address was banned after repeated violations"
        );
        for p in self
            .people
            .values()
            .filter(|p| p.addr.as_ref() == Some(addr))
        {
            for c in p.conns() {
                let _ = c.out.try_send(Outbound::Close(CloseCode::Banned, "banned"));
                let _ = c.notices.try_send(Notice::Close(CloseCode::Banned));
            }
        }
    }

    /// The figures for `/insights`: gauges now, and the aggregate counters from storage.
    fn insights(&self, participant: ParticipantId, conn_id: u64) {
        let Some(conn) = self
            .people
            .get(&participant)
            .and_then(|p| p.conns().find(|c| c.conn_id == conn_id).cloned())
        else {
            return;
        };
        let gauge = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
        let online = gauge(self.metrics.connections.get());
        let rooms = gauge(self.metrics.rooms.get());
        let waiting = u32::try_from(self.mm.queue_len()).unwrap_or(u32::MAX);
        let store = self.store.clone();
        tokio::spawn(async move {
            let counters = store.counters().await.unwrap_or_default();
            let total = |name: &str| counters.get(name).copied().unwrap_or(0);
            conn.send(&ServerMessage::Insights {
                online,
                waiting,
                rooms,
                connections_total: total("connections"),
                conversations_total: total("conversations"),
                messages_total: total("messages"),
            });
        });
    }

    /// The chat endpoint's rules for joining the queue: chat rooms only there (and only
    /// there), joins limited per address, and the client's match key hashed again.
    fn chat_join_rules(
        &mut self,
        participant: ParticipantId,
        conn_id: u64,
        kind: RoomKind,
        key: Option<&str>,
    ) -> Result<(), ServerMessage> {
        let refuse = |code: ErrorCode, text: String| ServerMessage::Error {
            code,
            message: Text::truncate(text),
        };
        let from_chat = self.endpoint_of(participant, conn_id) == Some(Endpoint::Chat);
        if from_chat != (kind == RoomKind::Chat) {
            return Err(refuse(
                ErrorCode::Forbidden,
                "chat rooms are found on /chat, pairing sessions on /ws".into(),
            ));
        }
        if !from_chat || self.mm.position(participant).is_some() {
            return Ok(());
        }
        let t = now();
        let addr = self.people.get(&participant).and_then(|p| p.addr.clone());
        if let Some(addr) = addr
            && let Err(retry) = self.gate.join(t, &addr)
        {
            return Err(refuse(
                ErrorCode::RateLimited,
                format!(
                    "too many searches from your address; try again in {} s",
                    retry.as_secs().max(1)
                ),
            ));
        }
        if let Some(key) = key {
            let hashed = self.hasher.match_key(key);
            if let Some(p) = self.people.get_mut(&participant) {
                p.key = MatchKey::new(hashed);
            }
        }
        Ok(())
    }

    fn request(&mut self, participant: ParticipantId, conn_id: u64, message: ClientMessage) {
        if let ClientMessage::Insights {} = message {
            self.insights(participant, conn_id);
            return;
        }
        if let ClientMessage::FindPartner { kind, key } = &message
            && self
                .people
                .get(&participant)
                .is_none_or(|p| p.room.is_none())
            && let Err(refusal) = self.chat_join_rules(
                participant,
                conn_id,
                *kind,
                key.as_ref().map(|k| k.as_str()),
            )
        {
            self.reply(participant, conn_id, &refusal);
            return;
        }
        let in_room = self
            .people
            .get(&participant)
            .is_some_and(|p| p.room.is_some());
        let refuse = |code: ErrorCode, text: &str| ServerMessage::Error {
            code,
            message: Text::truncate(text),
        };
        let kind = match &message {
            ClientMessage::FindPartner { kind, .. } => Some(*kind),
            ClientMessage::CreateInvite {} | ClientMessage::RedeemInvite { .. } => {
                Some(RoomKind::Pairing)
            }
            _ => None,
        };
        if in_room && kind.is_some() {
            self.reply(
                participant,
                conn_id,
                &refuse(ErrorCode::AlreadyWaiting, "you are in a session already"),
            );
            return;
        }
        if let Some(kind) = kind
            && let Some(p) = self.people.get_mut(&participant)
        {
            p.last_kind = kind;
        }
        let Some(candidate) = kind.and_then(|k| self.candidate(participant, k)) else {
            match message {
                ClientMessage::CancelSearch {} => {
                    if let Err(e) = self.mm.leave(participant) {
                        self.reply(participant, conn_id, &ServerMessage::match_error(&e));
                    }
                }
                other => self.reply(
                    participant,
                    conn_id,
                    &refuse(
                        ErrorCode::NotMember,
                        &format!("`{}` needs a session; you are not in one", other.kind()),
                    ),
                ),
            }
            return;
        };
        let t = now();
        match message {
            ClientMessage::FindPartner { .. } => match self.mm.enqueue(t, candidate) {
                Ok(()) => self.send_queued(participant),
                Err(e) => self.reply(participant, conn_id, &ServerMessage::match_error(&e)),
            },
            ClientMessage::CreateInvite {} => {
                let mut entropy = [0u8; roulette_core::invite::INVITE_ENTROPY_BYTES];
                if getrandom::fill(&mut entropy).is_err() {
                    self.reply(
                        participant,
                        conn_id,
                        &refuse(ErrorCode::Internal, "no randomness"),
                    );
                    return;
                }
                let code = InviteCode::from_entropy(entropy);
                let key = candidate.key.0.clone();
                // Inviting a friend while waiting for a stranger switches to the friend.
                if self.mm.position(participant).is_some() {
                    let _ = self.mm.leave(participant);
                }
                match self.mm.create_invite(t, candidate, &code) {
                    Ok(invite) => {
                        let ttl = invite.expires_at.saturating_duration_since(t);
                        self.store.save_invite(InviteRecord {
                            hash_hex: invite.hash.to_hex(),
                            inviter_key: key,
                            expires_unix: unix_now() + ttl.as_secs(),
                        });
                        // Every window of the inviter shows the link (a host's agent may
                        // have asked for it, and their browser shows it).
                        if let Some(p) = self.people.get(&participant) {
                            p.send(&ServerMessage::InviteCreated {
                                code: Text::truncate(code.as_str()),
                                expires_in_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
                            });
                        }
                    }
                    Err(e) => self.reply(participant, conn_id, &ServerMessage::match_error(&e)),
                }
            }
            ClientMessage::RedeemInvite { code } => {
                // Guessing codes is slowed per address, before any code is looked at.
                let addr = self.people.get(&participant).and_then(|p| p.addr.clone());
                if let Some(addr) = addr
                    && let Err(retry) = self.gate.redeem(t, &addr)
                {
                    self.reply(
                        participant,
                        conn_id,
                        &refuse(
                            ErrorCode::RateLimited,
                            &format!(
                                "too many invite attempts from your address; try again in {} s",
                                retry.as_secs().max(1)
                            ),
                        ),
                    );
                    return;
                }
                // Someone waiting in the queue who opens a friend's link goes to the friend;
                // if the link is no good they keep their place at the head of the queue.
                let was_queued = self.mm.position(participant).is_some();
                if was_queued {
                    let _ = self.mm.leave(participant);
                }
                match self.mm.redeem_invite(t, &code, candidate.clone()) {
                    Ok(()) => {
                        if let Some(code) = InviteCode::parse(&code) {
                            self.store.delete_invite(code.hash().to_hex());
                        }
                    }
                    Err(e) => {
                        if was_queued && self.mm.requeue(t, candidate).is_ok() {
                            self.send_queued(participant);
                        }
                        self.reply(participant, conn_id, &ServerMessage::match_error(&e));
                    }
                }
            }
            _ => {}
        }
    }

    fn send_queued(&self, participant: ParticipantId) {
        if let (Some(position), Some(p)) =
            (self.mm.position(participant), self.people.get(&participant))
        {
            p.send(&ServerMessage::Queued {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                online: u32::try_from(self.metrics.connections.get().max(0)).unwrap_or(u32::MAX),
            });
        }
    }

    fn drain_matches(&mut self) {
        while let Some(output) = self.mm.poll_output() {
            match output {
                MatchmakerOutput::Matched(m) => self.start_room(m),
                MatchmakerOutput::InviteExpired(hash) => self.store.delete_invite(hash.to_hex()),
            }
        }
    }

    fn start_room(&mut self, m: roulette_core::Match) {
        if !self.mm.claim_room(m.room) {
            tracing::error!(room = %m.room, "room id owned by another node");
            return;
        }
        tracing::info!(room = %m.room, via = ?m.via, host = ?m.host, a = %m.partners[0].participant, b = %m.partners[1].participant, "matched");
        let member = |lobby: &Lobby, c: &Candidate| -> MemberInit {
            let p = lobby.people.get(&c.participant);
            MemberInit {
                participant: c.participant,
                key: c.key.clone(),
                name: p.map(|p| p.name.clone()).unwrap_or_default(),
                conns: p.map(|p| p.conns().cloned().collect()).unwrap_or_default(),
            }
        };
        let members = [member(self, &m.partners[0]), member(self, &m.partners[1])];
        let tx = spawn_room(RoomInit {
            room: m.room,
            kind: m.kind,
            host: m.host,
            members,
            session: roulette_core::SessionConfig {
                seed: self.config.session.seed ^ unix_now(),
                ..self.config.session.clone()
            },
            replay_bytes: self.config.limits.replay_bytes,
            flow: crate::viewer::Flow {
                window: self.config.limits.viewer_window,
                max_backlog: self.config.limits.max_backlog,
            },
            metrics: self.metrics.clone(),
            store: self.store.clone(),
            lobby: self.me.clone(),
        });
        self.store.bump(
            if m.kind == RoomKind::Chat {
                "conversations"
            } else {
                "sessions"
            },
            1,
        );
        for c in &m.partners {
            if let Some(p) = self.people.get_mut(&c.participant) {
                p.room = Some((m.room, tx.clone()));
                for conn in p.conns() {
                    let _ = conn.notices.try_send(Notice::Room(tx.clone()));
                }
            }
        }
    }

    fn gone(&mut self, participant: ParticipantId, conn_id: u64, endpoint: Endpoint) {
        let Some(person) = self.people.get_mut(&participant) else {
            return;
        };
        let removed = match endpoint {
            Endpoint::Participant | Endpoint::Chat => {
                let before = person.ws.len();
                person.ws.retain(|c| c.conn_id != conn_id);
                person.ws.len() < before
            }
            Endpoint::Host if person.agent.as_ref().is_some_and(|c| c.conn_id == conn_id) => {
                person.agent = None;
                true
            }
            Endpoint::Host => false,
        };
        if !removed {
            // Already replaced by a newer connection.
            return;
        }
        if let Some((_, room)) = &person.room {
            let _ = room.try_send(RoomCmd::Detach {
                participant,
                conn_id,
            });
            return;
        }
        let none_left = !person.connected();
        if endpoint == Endpoint::Host {
            self.mm.set_can_host(now(), participant, false);
        }
        if none_left {
            let _ = self.mm.leave(participant);
        }
    }

    fn room_closed(&mut self, closed: RoomClosed) {
        self.mm.release_room(closed.room);
        let t = now();
        let [a, b] = closed.partners;
        let key = |lobby: &Lobby, p| lobby.people.get(&p).map(|p| p.key.clone());
        let (Some(ka), Some(kb)) = (key(self, a), key(self, b)) else {
            return;
        };
        for p in [a, b] {
            if let Some(person) = self.people.get_mut(&p)
                && person.room.as_ref().is_some_and(|(r, _)| *r == closed.room)
            {
                person.room = None;
            }
        }
        let (separation, requeue) = match closed.reason {
            EndReason::Rematch { .. } => (Some(Separation::Rematch), vec![a, b]),
            EndReason::Skipped { .. } => (Some(Separation::Skip), vec![a, b]),
            EndReason::Reported { .. } => (Some(Separation::Report), vec![]),
            // An agent that failed to start is no one's fault but the host's: the partner keeps
            // their turn, and the host is not put back to fail again.
            EndReason::AgentExited { early: true, .. } => (
                None,
                [a, b]
                    .into_iter()
                    .filter(|p| Some(*p) != closed.host)
                    .collect(),
            ),
            _ => (None, vec![]),
        };
        if let Some(why) = separation {
            self.mm.keep_apart(t, &ka, &kb, why);
        }
        for p in requeue {
            let connected = self.people.get(&p).is_some_and(Person::connected);
            if let Some(c) = self.candidate(p, closed.kind).filter(|_| connected)
                && self.mm.requeue(t, c).is_ok()
            {
                self.send_queued(p);
            }
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
