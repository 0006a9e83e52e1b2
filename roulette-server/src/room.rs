//! One actor per room: it owns the core session and the room's terminal, and is the only
//! place either changes. Inputs arrive one at a time on its channel; after each, the session's
//! outputs are routed to the members' connections.

use bytes::Bytes;
use roulette_core::session::{AgentPolicy, ApprovalRequest, Event, Output, Phase};
use roulette_core::{
    MatchKey, ParticipantId, RoomId, RoomKind, RoomSetup, Session, SessionConfig, SessionError,
};
use roulette_transport::{ClientMessage, CloseCode, Frame, ServerMessage, Text};
use std::time::Duration;
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::store::{ReportRecord, Store};
use crate::terminal::{Accepted, Terminal};
use crate::viewer::{Flow, Viewer};
use crate::wiring::{ConnRef, Endpoint, LobbyCmd, Notice, Outbound, RoomClosed, RoomCmd};

/// Room commands queued before senders wait.
const ROOM_QUEUE: usize = 1024;
/// How often viewers that are behind are topped up while nothing else happens.
const RESYNC_TICK: Duration = Duration::from_millis(100);
/// How long an ended room keeps serving viewers that are still catching up.
const DRAIN_TIME: Duration = Duration::from_secs(10);
/// Send an `ack` to the host agent after this many new bytes.
const ACK_EVERY: u64 = 256 * 1024;

/// A member as the lobby hands it to a new room.
#[derive(Debug)]
pub struct MemberInit {
    /// The participant.
    pub participant: ParticipantId,
    /// Their match key, for reports.
    pub key: MatchKey,
    /// Their handle.
    pub name: String,
    /// Their connections now.
    pub conns: Vec<ConnRef>,
}

/// What a room needs to start.
#[derive(Debug)]
pub struct RoomInit {
    /// The room.
    pub room: RoomId,
    /// Pairing or chat.
    pub kind: RoomKind,
    /// The host, for pairing rooms.
    pub host: Option<ParticipantId>,
    /// Both members.
    pub members: [MemberInit; 2],
    /// Session rules.
    pub session: SessionConfig,
    /// Bytes of output kept for resuming viewers.
    pub replay_bytes: usize,
    /// Flow control for viewers.
    pub flow: Flow,
    /// Metrics.
    pub metrics: Metrics,
    /// Persistence.
    pub store: Store,
    /// Where to report the end.
    pub lobby: mpsc::Sender<LobbyCmd>,
}

#[derive(Debug)]
struct Member {
    participant: ParticipantId,
    key: MatchKey,
    name: String,
    viewers: Vec<Viewer>,
    agent: Option<ConnRef>,
}

impl Member {
    fn connected(&self) -> bool {
        !self.viewers.is_empty() || self.agent.is_some()
    }
}

struct Room {
    id: RoomId,
    kind: RoomKind,
    session: Session,
    members: [Member; 2],
    terminal: Terminal,
    input_offset: u64,
    acked: u64,
    flow: Flow,
    metrics: Metrics,
    store: Store,
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Starts a room actor; returns its command channel.
pub fn spawn_room(init: RoomInit) -> mpsc::Sender<RoomCmd> {
    let (tx, rx) = mpsc::channel(ROOM_QUEUE);
    let setup = RoomSetup {
        room: init.room,
        kind: init.kind,
        partners: [init.members[0].participant, init.members[1].participant],
        host: init.host,
    };
    let [a, b] = init.members;
    let pending: Vec<(ParticipantId, ConnRef)> = a
        .conns
        .iter()
        .map(|c| (a.participant, c.clone()))
        .chain(b.conns.iter().map(|c| (b.participant, c.clone())))
        .collect();
    let member = |m: MemberInit| Member {
        participant: m.participant,
        key: m.key,
        name: m.name,
        viewers: Vec::new(),
        agent: None,
    };
    let session = match Session::new(init.session, now(), setup) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "could not open a room");
            return tx;
        }
    };
    let mut room = Room {
        id: init.room,
        kind: init.kind,
        session,
        members: [member(a), member(b)],
        terminal: Terminal::new(80, 24, init.replay_bytes),
        input_offset: 0,
        acked: 0,
        flow: init.flow,
        metrics: init.metrics,
        store: init.store,
    };
    room.metrics.rooms.inc();
    tracing::info!(room = %room.id, kind = ?room.kind, "room opened");
    let lobby = init.lobby;
    // The session's opening events describe its state; attaching sends that state anyway.
    while room.session.poll_output().is_some() {}
    tokio::spawn(async move {
        for (participant, conn) in pending {
            room.attach(participant, conn, None);
        }
        room.drain();
        run(room, rx, lobby).await;
    });
    tx
}

async fn run(mut room: Room, mut rx: mpsc::Receiver<RoomCmd>, lobby: mpsc::Sender<LobbyCmd>) {
    loop {
        let deadline = room.session.poll_timeout();
        let behind = room.any_behind();
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(RoomCmd::Shutdown) | None => break,
                Some(cmd) => room.handle(cmd),
            },
            () = sleep_until(deadline), if deadline.is_some() => {
                room.session.handle_timeout(now());
            }
            () = tokio::time::sleep(RESYNC_TICK), if behind => {}
        }
        room.drain();
        room.pump_all();
        if room.session.phase() == Phase::Ended {
            break;
        }
    }
    // The session is over, but viewers still catching up get the tail of the output: the room
    // keeps serving them (acknowledgements and departures only) for a while.
    let deadline = tokio::time::Instant::now() + DRAIN_TIME;
    while room.any_behind() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(cmd @ (RoomCmd::Message { message: ClientMessage::Ack { .. }, .. } | RoomCmd::Detach { .. })) => room.handle(cmd),
                Some(RoomCmd::Shutdown) | None => break,
                Some(_) => {}
            },
            () = tokio::time::sleep(RESYNC_TICK) => {}
            () = tokio::time::sleep_until(deadline) => break,
        }
        room.pump_all();
    }
    room.metrics.rooms.dec();
    tracing::info!(room = %room.id, reason = ?room.session.end_reason(), bytes = room.terminal.end(), "room closed");
    for m in &room.members {
        for conn in m.viewers.iter().map(|v| &v.conn).chain(m.agent.iter()) {
            let _ = conn.notices.try_send(Notice::NoRoom);
        }
    }
    if let Some(reason) = room.session.end_reason() {
        let closed = RoomClosed {
            room: room.id,
            kind: room.kind,
            reason,
            partners: [room.members[0].participant, room.members[1].participant],
            host: room.session.host(),
        };
        let _ = lobby.send(LobbyCmd::RoomClosed(closed)).await;
    }
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await,
        None => std::future::pending().await,
    }
}

impl Room {
    fn member_mut(&mut self, p: ParticipantId) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.participant == p)
    }

    fn member(&self, p: ParticipantId) -> Option<&Member> {
        self.members.iter().find(|m| m.participant == p)
    }

    fn any_behind(&self) -> bool {
        self.members
            .iter()
            .any(|m| m.viewers.iter().any(|v| v.behind(&self.terminal)))
    }

    /// Tops up every viewer that is behind.
    fn pump_all(&mut self) {
        let (term, flow, metrics) = (&mut self.terminal, &self.flow, &self.metrics);
        for m in &mut self.members {
            for v in &mut m.viewers {
                if v.behind(term) {
                    v.pump(term, flow, metrics);
                }
            }
        }
    }

    fn handle(&mut self, cmd: RoomCmd) {
        match cmd {
            RoomCmd::Attach {
                participant,
                conn,
                resume_from,
            } => self.attach(participant, conn, resume_from),
            RoomCmd::Detach {
                participant,
                conn_id,
            } => self.detach(participant, conn_id),
            RoomCmd::Message {
                participant,
                conn_id,
                message,
            } => self.message(participant, conn_id, message),
            RoomCmd::Input {
                participant,
                conn_id,
                data,
            } => {
                if let Err(e) = self
                    .session
                    .handle_terminal_input(now(), participant, &data)
                {
                    self.reply(participant, conn_id, &ServerMessage::session_error(&e));
                }
            }
            RoomCmd::Output {
                conn_id,
                offset,
                data,
            } => self.output(conn_id, offset, data),
            RoomCmd::Latency { participant, rtt } => {
                let rtt_ms = u64::try_from(rtt.as_millis()).unwrap_or(u64::MAX);
                self.broadcast(
                    &ServerMessage::Latency {
                        who: participant,
                        rtt_ms,
                    },
                    true,
                );
            }
            RoomCmd::Shutdown => {}
        }
    }

    fn attach(&mut self, participant: ParticipantId, conn: ConnRef, resume_from: Option<u64>) {
        let Some(partner) = self
            .members
            .iter()
            .find(|m| m.participant != participant)
            .map(|m| (m.participant, m.name.clone()))
        else {
            return;
        };
        let Some(member) = self.member(participant) else {
            return;
        };
        let was_connected = member.connected();
        let agent_was_there = member.agent.is_some();
        let matched = ServerMessage::Matched {
            room: self.id,
            kind: self.kind,
            partner: partner.0,
            partner_name: Text::truncate(partner.1),
            host: self.session.host(),
        };
        conn.send(&matched);
        for event in self.session.current_state(now()) {
            conn.send(&ServerMessage::from(&event));
        }
        match conn.endpoint {
            Endpoint::Host if self.session.host() == Some(participant) => {
                conn.send(&ServerMessage::Ack {
                    offset: self.terminal.end(),
                });
                self.acked = self.terminal.end();
                if let Some(m) = self.member_mut(participant) {
                    m.agent = Some(conn);
                }
                if agent_was_there || self.terminal.end() > 0 || self.input_offset > 0 {
                    self.metrics.reconnects.inc();
                }
                let _ = self.session.handle_agent_reconnect(now());
            }
            _ => {
                let mut viewer = Viewer::new(conn, resume_from, &self.terminal);
                viewer.pump(&mut self.terminal, &self.flow, &self.metrics);
                if let Some(m) = self.member_mut(participant) {
                    m.viewers.retain(|v| v.conn.conn_id != viewer.conn.conn_id);
                    m.viewers.push(viewer);
                }
            }
        }
        if !was_connected && self.session.phase() != Phase::Ended {
            let _ = self.session.handle_reconnect(now(), participant);
        }
    }

    fn detach(&mut self, participant: ParticipantId, conn_id: u64) {
        let Some(member) = self.member_mut(participant) else {
            return;
        };
        let before = member.connected();
        member.viewers.retain(|v| v.conn.conn_id != conn_id);
        let agent_gone = member.agent.as_ref().is_some_and(|a| a.conn_id == conn_id);
        if agent_gone {
            member.agent = None;
        }
        let after = member.connected();
        if agent_gone {
            // The host agent reconnects by itself; its own (longer) grace period covers the
            // host's presence too.
            let _ = self.session.handle_agent_disconnect(now());
        } else if before && !after {
            let _ = self.session.handle_disconnect(now(), participant);
        }
    }

    fn reply(&self, participant: ParticipantId, conn_id: u64, message: &ServerMessage) {
        if let Some(m) = self.member(participant) {
            let conns = m.viewers.iter().map(|v| &v.conn).chain(m.agent.iter());
            for conn in conns.filter(|c| c.conn_id == conn_id) {
                conn.send(message);
            }
        }
    }

    fn message(&mut self, p: ParticipantId, conn_id: u64, message: ClientMessage) {
        let t = now();
        // Messages only the host agent sends are believed from its own connection only.
        let from_agent = self
            .member(p)
            .and_then(|m| m.agent.as_ref())
            .is_some_and(|a| a.conn_id == conn_id);
        let s = &mut self.session;
        let result = match message {
            ClientMessage::Chat { text } => {
                let sent = s.handle_chat(t, p, &text);
                if sent.is_ok() {
                    // The count only; the text is never stored.
                    self.store.bump("messages", 1);
                }
                sent
            }
            ClientMessage::Typing {} => s.handle_typing(t, p),
            ClientMessage::AddIdea { text } => s.handle_add_idea(t, p, &text).map(drop),
            ClientMessage::Vote { idea, vote } => s.handle_vote(t, p, idea, vote),
            ClientMessage::RequestSwap {} => s.handle_request_swap(t, p),
            ClientMessage::AnswerSwap { accept } => s.handle_answer_swap(t, p, accept),
            ClientMessage::Reclaim {} => s.handle_reclaim(t, p),
            ClientMessage::SuggestPrompt { text } => s.handle_suggest_prompt(t, p, &text).map(drop),
            ClientMessage::SubmitPrompt {
                text,
                acknowledge_warnings,
            } => s
                .handle_submit_prompt(t, p, &text, acknowledge_warnings)
                .map(drop),
            ClientMessage::DecidePrompt {
                id,
                approve,
                acknowledge_warnings,
            } => s.handle_decide_prompt(t, p, id, approve, acknowledge_warnings),
            ClientMessage::DecideLine { id, approve } => s.handle_decide_line(t, p, id, approve),
            ClientMessage::DecideApproval { id, allow, reason } => {
                s.handle_decide_approval(t, p, id, allow, &reason)
            }
            ClientMessage::AgentPolicy {
                approvals,
                hold_changes,
                hold_keys,
            } if from_agent => s.handle_agent_policy(
                t,
                p,
                AgentPolicy {
                    approvals,
                    hold_changes,
                    hold_keys,
                },
            ),
            ClientMessage::ApprovalRequest {
                id,
                tool,
                summary,
                place,
            } if from_agent => s.handle_approval_request(
                t,
                p,
                ApprovalRequest {
                    id,
                    tool: tool.into_string(),
                    summary: summary.into_string(),
                    place,
                },
            ),
            ClientMessage::ApprovalResolved {
                id,
                outcome,
                reason,
            } if from_agent => s.handle_approval_resolved(t, p, id, outcome, &reason),
            ClientMessage::AgentPolicy { .. }
            | ClientMessage::ApprovalRequest { .. }
            | ClientMessage::ApprovalResolved { .. } => Err(SessionError::NotHost),
            ClientMessage::CheckIn { keep_going } => s.handle_check_in(t, p, keep_going),
            ClientMessage::RequestExtension {} => s.handle_request_extension(t, p),
            ClientMessage::AnswerExtension { accept } => s.handle_answer_extension(t, p, accept),
            ClientMessage::Rematch {} => s.handle_rematch(t, p),
            ClientMessage::Skip {} => s.handle_skip(t, p),
            ClientMessage::Report { reason } => s.handle_report(t, p, &reason),
            ClientMessage::Leave {} => s.handle_leave(t, p),
            ClientMessage::Resize { cols, rows } => s.handle_resize(t, p, cols, rows),
            ClientMessage::Ack { offset } => {
                let (term, flow, metrics) = (&mut self.terminal, &self.flow, &self.metrics);
                for m in self.members.iter_mut().filter(|m| m.participant == p) {
                    for v in m.viewers.iter_mut().filter(|v| v.conn.conn_id == conn_id) {
                        v.ack(offset);
                        v.pump(term, flow, metrics);
                    }
                }
                Ok(())
            }
            ClientMessage::Exit { code } if from_agent => {
                self.broadcast(&ServerMessage::AgentExited { code }, false);
                self.session.handle_agent_exit(t, p, code)
            }
            ClientMessage::Exit { .. } => Err(SessionError::NotHost),
            // Lobby messages never reach a room.
            other => {
                tracing::debug!(kind = other.kind(), "lobby message sent to a room");
                Ok(())
            }
        };
        if let Err(e) = result {
            self.reply(p, conn_id, &ServerMessage::session_error(&e));
        }
    }

    fn output(&mut self, conn_id: u64, offset: u64, data: Bytes) {
        let Some(host) = self.session.host() else {
            return;
        };
        let from_agent = self
            .member(host)
            .and_then(|m| m.agent.as_ref())
            .is_some_and(|a| a.conn_id == conn_id);
        if !from_agent {
            return;
        }
        match self.terminal.accept(offset, data) {
            Accepted::Duplicate => {}
            Accepted::Gap { expected } => {
                if let Some(agent) = self.member(host).and_then(|m| m.agent.as_ref()) {
                    agent.send(&ServerMessage::Ack { offset: expected });
                }
            }
            Accepted::New(offset, data) => {
                let len = data.len();
                // Encoded once, shared by every viewer that keeps up.
                let packets = Frame::Output { offset, data }.packets();
                let (term, flow, metrics) = (&mut self.terminal, &self.flow, &self.metrics);
                for member in &mut self.members {
                    for viewer in &mut member.viewers {
                        if !viewer.offer(offset, len, &packets, flow, metrics) {
                            // Behind or out of credit: served from the ring as it catches up.
                            viewer.pump(term, flow, metrics);
                        }
                    }
                }
                let end = self.terminal.end();
                if end - self.acked >= ACK_EVERY {
                    self.acked = end;
                    if let Some(agent) = self.member(host).and_then(|m| m.agent.as_ref()) {
                        agent.send(&ServerMessage::Ack { offset: end });
                    }
                }
            }
        }
    }

    fn broadcast(&self, message: &ServerMessage, to_agents: bool) {
        for m in &self.members {
            self.send_to(m, message, to_agents);
        }
    }

    fn send_to(&self, m: &Member, message: &ServerMessage, to_agent: bool) {
        let Some(out) = Outbound::message(message) else {
            return;
        };
        let conns = m
            .viewers
            .iter()
            .map(|v| &v.conn)
            .chain(m.agent.iter().filter(|_| to_agent));
        for conn in conns {
            if conn.out.try_send(out.clone()).is_err() {
                // Not even a control message fits: close it; it reconnects and resyncs.
                let _ = conn
                    .notices
                    .try_send(Notice::Close(CloseCode::TryAgainLater));
            }
        }
    }

    /// Routes the session's outputs.
    fn drain(&mut self) {
        while let Some(output) = self.session.poll_output() {
            match output {
                Output::Event { to, event } => {
                    // The agent's own size comes from `AgentResize`; it needs no echo.
                    let to_agent = !matches!(event, Event::Resized { .. });
                    let message = ServerMessage::from(&event);
                    for m in &self.members {
                        if to.includes(m.participant) {
                            self.send_to(m, &message, to_agent);
                        }
                    }
                }
                Output::AgentInput { author, bytes } => {
                    let Some(agent) = self
                        .session
                        .host()
                        .and_then(|h| self.member(h))
                        .and_then(|m| m.agent.clone())
                    else {
                        tracing::debug!(%author, "input dropped: the host agent is away");
                        continue;
                    };
                    let len = bytes.len() as u64;
                    // Who typed what reaches the agent: the author and the size, never the bytes.
                    tracing::debug!(room = %self.id, %author, bytes = len, "input to the agent");
                    let frame = Frame::Input {
                        offset: self.input_offset,
                        data: Bytes::from(bytes),
                    };
                    for packet in frame.packets() {
                        let _ = agent.out.try_send(Outbound::Binary(packet));
                    }
                    self.input_offset += len;
                }
                Output::AgentResize { cols, rows } => {
                    self.terminal.resize(cols, rows);
                    if let Some(agent) = self
                        .session
                        .host()
                        .and_then(|h| self.member(h))
                        .and_then(|m| m.agent.as_ref())
                    {
                        agent.send(&ServerMessage::Resize { cols, rows });
                    }
                }
                Output::ApprovalDecision { id, allow, reason } => {
                    let agent = self
                        .session
                        .host()
                        .and_then(|h| self.member(h))
                        .and_then(|m| m.agent.as_ref());
                    match agent {
                        Some(agent) => {
                            agent.send(&ServerMessage::ApprovalDecision {
                                id,
                                allow,
                                reason: Text::truncate(reason),
                            });
                        }
                        // The host agent denies by itself when no answer comes in time.
                        None => tracing::debug!(%id, "decision dropped: the host agent is away"),
                    }
                }
                Output::Report(report) => {
                    let key = |p| self.member(p).map(|m| m.key.0.clone()).unwrap_or_default();
                    self.store.add_report(ReportRecord {
                        at_unix: std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_secs())
                            .unwrap_or(0),
                        reporter_key: key(report.reporter),
                        reported_key: key(report.reported),
                        reason: report.reason,
                    });
                    self.store.bump("reports", 1);
                }
            }
        }
    }
}
