//! The host agent behind `roulette host`: it connects out to the relay, waits for a partner,
//! runs the agent in a PTY when matched, and streams it. Outbound connections only.
//!
//! - Input comes only from the driver the server names; the agent re-checks it here, removing
//!   back-tab (which would switch Claude Code's permission mode) from anyone but the host.
//! - The agent starts when building begins, so that the host, who drives first, answers its
//!   first questions. Claude Code gets a settings file of the session's own whose hooks ask the
//!   host agent ([`crate::hookchan`]); the decisions are the [`crate::gatekeeper`]'s: while
//!   anyone else drives, what the agent wants to do waits for the host.
//! - When the link drops, the agent keeps running and its output is kept; the agent
//!   reconnects with exponential backoff and jitter and resends from the offset the server
//!   acknowledges, so viewers see every byte exactly once.

use bytes::Bytes;
use roulette_core::session::{AgentPolicy, ApprovalOutcome, ApprovalPlace, RemoteInputFilter};
use roulette_core::{ApprovalId, LineId, ParticipantId, RoomKind};
use roulette_pty::{Agent, AgentConfig, PtyEvent, TermSize, WorkDir};
use roulette_transport::connect::{ClientError, Connection, Endpoint, Incoming, jitter_seed};
use roulette_transport::{Backoff, ClientMessage, CloseCode, Frame, ServerMessage, Text};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::gatekeeper::{CallId, GateConfig, GateOutput, Gatekeeper};
use crate::hookchan::{HookChannel, HookMessage};
pub use crate::preflight::{AgentKind, UNSAFE_FLAGS, check_agent_command};
use crate::preflight::{hook_program, preflight};
use crate::replay::Replay;

/// An agent that exits sooner than this after starting failed to start: the host agent stops
/// instead of queueing again.
pub const AGENT_MIN_RUN: Duration = Duration::from_secs(10);

/// How `roulette host` runs.
#[derive(Clone, Debug)]
pub struct HostOptions {
    /// The relay, as `http://host:port`.
    pub server: String,
    /// The host token.
    pub token: String,
    /// The agent's command line.
    pub command: Vec<OsString>,
    /// Where it runs.
    pub workdir: WorkDir,
    /// Host variables passed to the agent besides the allow-list.
    pub pass_env: Vec<String>,
    /// Open an invite instead of joining the queue.
    pub invite: bool,
    /// Stop after one session instead of waiting for the next partner.
    pub once: bool,
    /// First reconnect delay.
    pub backoff_base: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
    /// Most unacknowledged output kept for resending.
    pub replay_bytes: usize,
    /// Report the agent's output as [`HostStatus::Output`] (for a local screen). Off by
    /// default: a caller that does not read statuses would otherwise keep all output in memory.
    pub show_output: bool,
    /// Which agent this is; `None` detects it from the command ([`AgentKind::detect`]).
    pub agent_kind: Option<AgentKind>,
    /// How the agent's requests are decided while someone else drives (Claude Code).
    pub gate: GateConfig,
    /// Hold every key a remote driver presses for the host (for programs with dialogs of their
    /// own that Roulette cannot see).
    pub hold_remote_keys: bool,
    /// The `roulette` program Claude Code's hooks run; `None`: this program, or `roulette` on
    /// the `PATH` when this program is not it (an embedder).
    pub hook_program: Option<PathBuf>,
}

impl HostOptions {
    /// Options with the defaults for everything but the server and token.
    pub fn new(server: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            server: server.into(),
            token: token.into(),
            command: vec!["claude".into()],
            workdir: WorkDir::Temp,
            pass_env: Vec::new(),
            invite: false,
            once: false,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            replay_bytes: 64 * 1024 * 1024,
            show_output: false,
            agent_kind: None,
            gate: GateConfig::default(),
            hold_remote_keys: false,
            hook_program: None,
        }
    }
}

/// What the host agent tells its user interface.
#[derive(Clone, Debug, PartialEq)]
pub enum HostStatus {
    /// Connected to the relay.
    Connected {
        /// Our participant id.
        you: ParticipantId,
    },
    /// Waiting for a partner.
    Waiting {
        /// Position in the queue.
        position: u32,
    },
    /// An invite is open.
    Invite {
        /// The code to share.
        code: String,
    },
    /// Paired.
    Matched {
        /// The partner's handle.
        partner: String,
    },
    /// The agent started in this directory.
    AgentStarted {
        /// Its working directory.
        workdir: std::path::PathBuf,
    },
    /// Terminal output of the agent (to show locally).
    Output(Bytes),
    /// The agent waits for the host: with [`ApprovalPlace::Roulette`] the host allows or denies
    /// it ([`LocalInput::DecideApproval`]); with [`ApprovalPlace::AgentScreen`] the agent shows
    /// its own dialog, to be answered at the host's keyboard.
    ApprovalWaiting {
        /// Which.
        id: ApprovalId,
        /// The tool.
        tool: String,
        /// What it would do.
        summary: String,
        /// Where the host answers it.
        place: ApprovalPlace,
    },
    /// A request stopped waiting.
    ApprovalResolved {
        /// Which.
        id: ApprovalId,
        /// How.
        outcome: ApprovalOutcome,
    },
    /// A remote driver's line waits for the host's approval (Ctrl-Y allows, Ctrl-N refuses).
    LineHeld {
        /// Which.
        id: LineId,
        /// What was typed.
        preview: String,
    },
    /// A message from the server worth showing.
    Notice(String),
    /// The link dropped; reconnecting after this delay.
    Reconnecting {
        /// The delay.
        after: Duration,
    },
    /// The session ended.
    Ended(String),
    /// The agent exited.
    AgentExited(Option<i32>),
    /// Any other message from the server, for the interface to show.
    Message(ServerMessage),
}

/// Keys the host presses at their own terminal.
#[derive(Clone, Debug)]
pub enum LocalInput {
    /// Keystrokes for the agent (forwarded through the relay, which checks the host drives).
    Keys(Bytes),
    /// Allow the held line.
    ApproveLine(LineId),
    /// Refuse the held line.
    RejectLine(LineId),
    /// Allow or deny a request of the agent's held for the host.
    DecideApproval {
        /// Which.
        id: ApprovalId,
        /// Allow or deny.
        allow: bool,
        /// Why, for the agent and the partner (may be empty).
        reason: String,
    },
    /// Any other message (answer a swap, chat, vote, leave...).
    Message(ClientMessage),
}

/// Why the host agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The server refused the token.
    #[error("the server refused the host token; mint a new one with `roulette token`")]
    Unauthorized,
    /// Another host agent with the same token took over.
    #[error("another host agent with the same token connected; this one stops")]
    Replaced,
    /// The agent could not start.
    #[error(transparent)]
    Agent(#[from] roulette_pty::PtyError),
    /// The agent cannot run here (checked before queueing).
    #[error("{0}")]
    Preflight(String),
    /// The relay cannot be reached in a way that retrying cannot mend (a certificate that is
    /// not trusted, a bad address).
    #[error("{0}")]
    Connect(String),
    /// The agent exited right after a session started; queueing again would fail again.
    #[error("{0}")]
    AgentFailed(String),
}

/// Most input kept for an agent that has not started yet.
const EARLY_INPUT_MAX: usize = 64 * 1024;
/// Most of a remote driver's keys kept while they wait for a dialog of the agent's to close.
const WAITING_KEYS_MAX: usize = 64 * 1024;
/// A request the host agent reported to the relay and still waits for, resent after a
/// reconnect.
#[derive(Clone, Debug)]
struct Reported {
    id: ApprovalId,
    tool: String,
    summary: String,
    place: ApprovalPlace,
}

struct State {
    opts: HostOptions,
    kind: AgentKind,
    agent: Option<Agent>,
    /// The agent was started in this session (it starts once, when building begins).
    spawned: bool,
    started_at: Option<tokio::time::Instant>,
    /// The agent exited while the link was down; the relay is told on reconnect.
    exit_unsent: Option<Option<i32>>,
    /// Why the agent failed to start, once it has: the host agent stops after this session.
    failed: Option<String>,
    replay: Replay,
    applied_input: u64,
    /// Input that arrived before the agent started (bounded), written as soon as it runs.
    early_input: Vec<u8>,
    me: ParticipantId,
    driver: Option<ParticipantId>,
    filter: RemoteInputFilter,
    in_session: bool,
    size: TermSize,
    gate: Gatekeeper,
    hooks: Option<HookChannel>,
    replies: HashMap<CallId, oneshot::Sender<String>>,
    reported: Vec<Reported>,
    /// A remote driver's keys that wait while the agent may show a dialog only the host
    /// answers (bounded); written once it cannot.
    waiting_keys: Vec<u8>,
    status: mpsc::UnboundedSender<HostStatus>,
    done: bool,
}

impl State {
    fn say(&self, s: HostStatus) {
        let _ = self.status.send(s);
    }

    fn host_drives(&self) -> bool {
        self.driver == Some(self.me)
    }

    fn policy(&self) -> AgentPolicy {
        let claude = self.kind == AgentKind::ClaudeCode;
        AgentPolicy {
            approvals: claude,
            hold_changes: claude && self.opts.gate.hold_changes,
            hold_keys: self.opts.hold_remote_keys,
        }
    }
}

/// Runs the host agent until `stop` is cancelled, or after one session with `once`.
pub async fn run_host(
    opts: HostOptions,
    status: mpsc::UnboundedSender<HostStatus>,
    mut local: mpsc::Receiver<LocalInput>,
    stop: CancellationToken,
) -> Result<(), HostError> {
    let kind = opts
        .agent_kind
        .unwrap_or_else(|| AgentKind::detect(&opts.command));
    preflight(&opts.command, kind)
        .await
        .map_err(HostError::Preflight)?;
    if kind == AgentKind::ClaudeCode {
        hook_program(opts.hook_program.as_ref()).map_err(HostError::Preflight)?;
    }
    let mut backoff = Backoff::new(opts.backoff_base, opts.backoff_max, jitter_seed());
    let mut st = State {
        replay: Replay::new(opts.replay_bytes),
        gate: Gatekeeper::new(opts.gate),
        opts,
        kind,
        agent: None,
        spawned: false,
        started_at: None,
        exit_unsent: None,
        failed: None,
        applied_input: 0,
        early_input: Vec::new(),
        me: ParticipantId(0),
        driver: None,
        filter: RemoteInputFilter::default(),
        in_session: false,
        size: TermSize::default(),
        hooks: None,
        replies: HashMap::new(),
        reported: Vec::new(),
        waiting_keys: Vec::new(),
        status,
        done: false,
    };
    let mut conn: Option<Connection> = None;
    let mut retry_at = Some(tokio::time::Instant::now());
    loop {
        if st.done {
            break;
        }
        let gate_timer = st.gate.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            () = stop.cancelled() => break,
            () = sleep_until(retry_at), if conn.is_none() => {
                retry_at = None;
                match Connection::connect(&st.opts.server, Endpoint::Host, Some(&st.opts.token), None).await {
                    Ok(c) => {
                        backoff.reset();
                        let mut c = c;
                        if on_connected(&mut st, &mut c).await.is_ok() {
                            conn = Some(c);
                        } else {
                            retry_at = Some(schedule(&st, &mut backoff));
                        }
                    }
                    Err(ClientError::Connect(f)) if f.is_permanent() => {
                        return Err(HostError::Connect(f.to_string()));
                    }
                    Err(e) => {
                        match e.close_code() {
                            Some(CloseCode::Unauthorized) => return Err(HostError::Unauthorized),
                            _ => {
                                // Say why, then retry: the host should never watch a retry
                                // loop that does not say what is wrong.
                                st.say(HostStatus::Notice(format!("cannot reach the relay: {e}")));
                                retry_at = Some(schedule(&st, &mut backoff));
                            }
                        }
                    }
                }
            }
            incoming = next_incoming(&mut conn), if conn.is_some() => {
                let result = match incoming {
                    Ok(Some(item)) => match conn.as_mut() {
                        Some(c) => handle_incoming(&mut st, c, item).await,
                        None => Ok(()),
                    },
                    Ok(None) => Err(ClientError::Handshake("connection ended".into())),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    match e.close_code() {
                        Some(CloseCode::Unauthorized) => return Err(HostError::Unauthorized),
                        Some(CloseCode::Replaced) => return Err(HostError::Replaced),
                        _ => {}
                    }
                    lose_link(&st, &mut backoff, &mut conn, &mut retry_at);
                }
            }
            event = next_agent_event(&mut st.agent), if st.agent.is_some() => {
                if let Err(_e) = handle_agent_event(&mut st, conn.as_mut(), event).await {
                    lose_link(&st, &mut backoff, &mut conn, &mut retry_at);
                }
            }
            message = next_hook(&mut st.hooks), if st.hooks.is_some() => {
                if let Some(message) = message {
                    handle_hook(&mut st, message);
                }
                if drain_gate(&mut st, conn.as_mut()).await.is_err() {
                    lose_link(&st, &mut backoff, &mut conn, &mut retry_at);
                }
            }
            () = sleep_until(gate_timer), if gate_timer.is_some() => {
                st.gate.handle_timeout(tokio::time::Instant::now().into_std());
                if drain_gate(&mut st, conn.as_mut()).await.is_err() {
                    lose_link(&st, &mut backoff, &mut conn, &mut retry_at);
                }
            }
            input = local.recv() => {
                let Some(input) = input else { continue };
                let sent = match (input, conn.as_mut()) {
                    // Decided here, even with the relay away: the host's own terminal.
                    (LocalInput::DecideApproval { id, allow, reason }, c) => {
                        st.gate.handle_decision(id, allow, &reason);
                        drain_gate(&mut st, c).await
                    }
                    (_, None) => Ok(()),
                    (LocalInput::Keys(data), Some(c)) => c.send_frame(&Frame::Input { offset: 0, data }).await,
                    (LocalInput::ApproveLine(id), Some(c)) => c.send(&ClientMessage::DecideLine { id, approve: true }).await,
                    (LocalInput::RejectLine(id), Some(c)) => c.send(&ClientMessage::DecideLine { id, approve: false }).await,
                    (LocalInput::Message(m), Some(c)) => c.send(&m).await,
                };
                if sent.is_err() {
                    lose_link(&st, &mut backoff, &mut conn, &mut retry_at);
                }
            }
        }
    }
    st.gate.withdraw_all("the host agent stopped");
    let _ = drain_gate(&mut st, None).await;
    if let Some(agent) = st.agent.take() {
        agent.kill();
    }
    if let Some(c) = conn {
        c.close().await;
    }
    match st.failed {
        Some(why) => Err(HostError::AgentFailed(why)),
        None => Ok(()),
    }
}

/// The link to the relay failed: drop it and schedule the reconnect.
fn lose_link(
    st: &State,
    backoff: &mut Backoff,
    conn: &mut Option<Connection>,
    retry_at: &mut Option<tokio::time::Instant>,
) {
    *conn = None;
    *retry_at = Some(schedule(st, backoff));
}

fn schedule(st: &State, backoff: &mut Backoff) -> tokio::time::Instant {
    let after = backoff.next_delay();
    st.say(HostStatus::Reconnecting { after });
    tokio::time::Instant::now() + after
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn next_incoming(conn: &mut Option<Connection>) -> Result<Option<Incoming>, ClientError> {
    match conn {
        Some(c) => c.next().await,
        None => std::future::pending().await,
    }
}

async fn next_agent_event(agent: &mut Option<Agent>) -> Option<PtyEvent> {
    match agent {
        Some(a) => a.next_event().await,
        None => std::future::pending().await,
    }
}

async fn next_hook(hooks: &mut Option<HookChannel>) -> Option<HookMessage> {
    match hooks {
        Some(h) => h.next().await,
        None => std::future::pending().await,
    }
}

fn handle_hook(st: &mut State, message: HookMessage) {
    match message {
        HookMessage::Call {
            call,
            hook: Ok(hook),
            reply,
        } => {
            st.replies.insert(call, reply);
            let host_drives = st.host_drives();
            st.gate.handle_hook(
                tokio::time::Instant::now().into_std(),
                call,
                hook,
                host_drives,
            );
        }
        HookMessage::Call {
            hook: Err(why),
            reply,
            ..
        } => {
            // No answer: the hook denies, in the form its own event needs.
            tracing::debug!(%why, "unreadable hook call denied");
            let _ = reply.send(String::new());
        }
        HookMessage::Gone(call) => {
            st.replies.remove(&call);
            st.gate.handle_call_gone(call);
        }
    }
}

/// Carries out what the gatekeeper decided: answers to hooks, and what everyone is told.
async fn drain_gate(st: &mut State, mut conn: Option<&mut Connection>) -> Result<(), ClientError> {
    while let Some(output) = st.gate.poll_output() {
        match output {
            GateOutput::Reply { call, stdout } => {
                if let Some(reply) = st.replies.remove(&call) {
                    let _ = reply.send(stdout);
                }
            }
            GateOutput::Waiting {
                id,
                tool,
                summary,
                place,
            } => {
                let reported = Reported {
                    id,
                    tool,
                    summary,
                    place,
                };
                st.say(HostStatus::ApprovalWaiting {
                    id,
                    tool: reported.tool.clone(),
                    summary: reported.summary.clone(),
                    place,
                });
                // Kept first: a send that fails is made good by the resend on reconnect.
                let request = approval_request(&reported);
                st.reported.push(reported);
                if let Some(c) = conn.as_deref_mut() {
                    c.send(&request).await?;
                }
            }
            GateOutput::Resolved {
                id,
                outcome,
                reason,
            } => {
                st.reported.retain(|r| r.id != id);
                st.say(HostStatus::ApprovalResolved { id, outcome });
                if let Some(c) = conn.as_deref_mut() {
                    c.send(&ClientMessage::ApprovalResolved {
                        id,
                        outcome,
                        reason: Text::truncate(reason),
                    })
                    .await?;
                }
            }
        }
    }
    release_waiting_keys(st).await;
    Ok(())
}

/// Writes the remote driver's keys that waited, once no dialog of the agent's can take them.
async fn release_waiting_keys(st: &mut State) {
    if st.waiting_keys.is_empty() || st.gate.remote_keys_wait() || st.host_drives() {
        return;
    }
    let keys = Bytes::from(std::mem::take(&mut st.waiting_keys));
    if let Some(agent) = &st.agent {
        let _ = agent.input().write(keys).await;
    }
}

fn approval_request(r: &Reported) -> ClientMessage {
    ClientMessage::ApprovalRequest {
        id: r.id,
        tool: Text::truncate(r.tool.clone()),
        summary: Text::truncate(r.summary.clone()),
        place: r.place,
    }
}

/// After `welcome`: back into the session (the server says which room, then resyncs), or into
/// the queue.
async fn on_connected(st: &mut State, conn: &mut Connection) -> Result<(), ClientError> {
    let (me, _) = conn.identity();
    st.me = me;
    st.say(HostStatus::Connected { you: me });
    if conn.room().is_none() {
        if st.in_session {
            // The session ended while the link was down.
            end_session(st, "the session ended while disconnected".into()).await;
        }
        if !st.done {
            look_for_partner(st, conn).await?;
        }
    } else if st.spawned {
        // Back in the session: what the relay may have missed.
        conn.send(&policy_message(st.policy())).await?;
        for r in st.reported.clone() {
            conn.send(&approval_request(&r)).await?;
        }
        if let Some(code) = st.exit_unsent.take() {
            conn.send(&ClientMessage::Exit { code }).await?;
        }
    }
    Ok(())
}

fn policy_message(p: AgentPolicy) -> ClientMessage {
    ClientMessage::AgentPolicy {
        approvals: p.approvals,
        hold_changes: p.hold_changes,
        hold_keys: p.hold_keys,
    }
}

async fn look_for_partner(st: &State, conn: &mut Connection) -> Result<(), ClientError> {
    if st.opts.invite {
        conn.send(&ClientMessage::CreateInvite {}).await
    } else {
        conn.send(&ClientMessage::FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        })
        .await
    }
}

async fn end_session(st: &mut State, reason: String) {
    st.gate.withdraw_all("the session ended");
    let _ = drain_gate(st, None).await;
    st.reported.clear();
    if let Some(mut agent) = st.agent.take() {
        agent.kill();
        // Let it finish: its directory and processes are gone once it reports the exit.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while agent.next_event().await.is_some() {}
        })
        .await;
    }
    st.hooks = None;
    st.replies.clear();
    st.waiting_keys.clear();
    st.in_session = false;
    st.spawned = false;
    st.started_at = None;
    st.exit_unsent = None;
    st.early_input.clear();
    st.replay.reset();
    st.applied_input = 0;
    st.driver = None;
    st.filter = RemoteInputFilter::default();
    st.say(HostStatus::Ended(reason));
    if st.opts.once || st.failed.is_some() {
        st.done = true;
    }
}

/// Starts the agent: once per session, when building begins. Claude Code gets the session's
/// own settings file, whose hooks ask this host agent.
async fn start_agent(st: &mut State, conn: &mut Connection) -> Result<(), ClientError> {
    st.spawned = true;
    let mut command = st.opts.command.clone();
    if st.kind == AgentKind::ClaudeCode {
        let channel = hook_program(st.opts.hook_program.as_ref())
            .map_err(std::io::Error::other)
            .and_then(|program| HookChannel::open(&program, st.opts.gate.timeout));
        match channel {
            Ok(channel) => {
                command.splice(
                    1..1,
                    [
                        OsString::from("--settings"),
                        channel.settings().as_os_str().to_owned(),
                    ],
                );
                st.hooks = Some(channel);
            }
            Err(e) => {
                // Without the hooks a stranger could answer the agent's dialogs: no agent.
                st.say(HostStatus::Notice(format!(
                    "could not set up the approvals for Claude Code, so the agent does not start: {e}"
                )));
                st.failed = Some(format!(
                    "could not set up the approvals for Claude Code: {e}"
                ));
                return conn.send(&ClientMessage::Leave {}).await;
            }
        }
    }
    let config = AgentConfig {
        command,
        size: st.size,
        workdir: st.opts.workdir.clone(),
        pass_env: st.opts.pass_env.clone(),
        ..AgentConfig::default()
    };
    match Agent::spawn(config) {
        Ok(agent) => {
            st.say(HostStatus::AgentStarted {
                workdir: agent.workdir().to_path_buf(),
            });
            st.started_at = Some(tokio::time::Instant::now());
            conn.send(&policy_message(st.policy())).await?;
            if st.kind == AgentKind::ClaudeCode {
                // Claude Code asks whether to trust its new folder before anything else; the
                // host, who drives first, answers it.
                st.gate.handle_agent_question(
                    "Claude Code",
                    "asks whether to trust the session's folder",
                );
                drain_gate(st, Some(conn)).await?;
            }
            let early = std::mem::take(&mut st.early_input);
            if !early.is_empty() {
                let _ = agent.input().write(Bytes::from(early)).await;
            }
            st.agent = Some(agent);
        }
        Err(e) => {
            st.hooks = None;
            st.say(HostStatus::Notice(format!(
                "could not start the agent: {e}"
            )));
            st.failed = Some(format!("could not start the agent: {e}"));
            conn.send(&ClientMessage::Exit { code: None }).await?;
        }
    }
    Ok(())
}

async fn handle_incoming(
    st: &mut State,
    conn: &mut Connection,
    item: Incoming,
) -> Result<(), ClientError> {
    match item {
        Incoming::Message(message) => match message {
            ServerMessage::Queued { position, .. } => st.say(HostStatus::Waiting { position }),
            ServerMessage::InviteCreated { code, .. } => st.say(HostStatus::Invite {
                code: code.into_string(),
            }),
            ServerMessage::Matched { partner_name, .. } => {
                st.in_session = true;
                st.say(HostStatus::Matched {
                    partner: partner_name.into_string(),
                });
            }
            ServerMessage::Ack { offset } => {
                // Resend what the server lacks, then forget what it has.
                if offset < st.replay.end() {
                    match st.replay.since(offset) {
                        Ok((from, data)) => {
                            conn.send_frame(&Frame::Output { offset: from, data })
                                .await?;
                        }
                        Err(e) => st.say(HostStatus::Notice(e.to_string())),
                    }
                }
                st.replay.acknowledge(offset);
            }
            ServerMessage::Building { driver, .. } => {
                st.driver = Some(driver);
                st.say(HostStatus::Message(message));
                if st.in_session && !st.spawned {
                    start_agent(st, conn).await?;
                }
            }
            ServerMessage::DriverChanged { driver, .. } => {
                st.driver = Some(driver);
                st.filter = RemoteInputFilter::default();
                // The former driver's waiting keys are theirs alone: never replayed for another.
                st.waiting_keys.clear();
                st.say(HostStatus::Message(message));
            }
            ServerMessage::Resize { cols, rows } => {
                st.size = TermSize { cols, rows };
                if let Some(agent) = &st.agent {
                    let _ = agent.input().resize(st.size).await;
                }
            }
            ServerMessage::LineHeld { id, preview } => st.say(HostStatus::LineHeld {
                id,
                preview: preview.into_string(),
            }),
            ServerMessage::ApprovalDecision { id, allow, reason } => {
                st.gate.handle_decision(id, allow, reason.as_str());
                drain_gate(st, Some(conn)).await?;
            }
            // The host agent reports its own requests; the relay's echoes add nothing here.
            ServerMessage::ApprovalWaiting { .. }
            | ServerMessage::ApprovalResolved { .. }
            | ServerMessage::AgentPolicy { .. } => {}
            ServerMessage::Ended { reason } => {
                st.say(HostStatus::Message(ServerMessage::Ended { reason }));
                end_session(st, crate::console::end_reason(&reason, st.me)).await;
                if !st.done {
                    look_for_partner(st, conn).await?;
                }
            }
            ServerMessage::Chat { from, text } => st.say(HostStatus::Notice(format!(
                "chat from {from}: {}",
                text.as_str()
            ))),
            ServerMessage::Error {
                code: roulette_transport::ErrorCode::UnknownApproval,
                ..
            } => {
                // A request resent after a reconnect that the relay already had.
            }
            ServerMessage::Error { message, .. } => {
                st.say(HostStatus::Notice(message.into_string()))
            }
            ServerMessage::Shutdown { .. } => {
                st.say(HostStatus::Notice("the server is restarting".into()))
            }
            other => st.say(HostStatus::Message(other)),
        },
        Incoming::Frame(Frame::Input { offset, data }) => {
            // Skip input already written before a reconnect.
            let end = offset + data.len() as u64;
            if end <= st.applied_input {
                return Ok(());
            }
            let skip = st.applied_input.saturating_sub(offset) as usize;
            let mut data = data.slice(skip.min(data.len())..);
            st.applied_input = end;
            if st.host_drives() {
                // The host answering the agent's own dialog closes it.
                st.gate.handle_host_keys(&data);
                drain_gate(st, Some(conn)).await?;
            } else {
                // The local re-check: the server only forwards the driver's input, but a remote
                // driver still may not switch the agent's permission mode, nor answer a dialog
                // the agent showed the host.
                data = Bytes::from(st.filter.filter(&data));
                if st.gate.remote_keys_wait() || !st.waiting_keys.is_empty() {
                    // The agent shows, or may be about to show, a dialog that only the host
                    // answers: the driver's keys wait until it is gone, behind any that wait
                    // already. Whole frames only: a cut one could end inside an escape
                    // sequence that later keys would complete.
                    if st.waiting_keys.len() + data.len() <= WAITING_KEYS_MAX {
                        st.waiting_keys.extend_from_slice(&data);
                    }
                    release_waiting_keys(st).await;
                    return Ok(());
                }
            }
            match &st.agent {
                Some(agent) if !data.is_empty() => {
                    let _ = agent.input().write(data).await;
                }
                Some(_) => {}
                // The driver typed before the agent started (the session began a moment ago):
                // kept, up to a bound, rather than lost.
                None if st.in_session && !st.spawned => {
                    let room = EARLY_INPUT_MAX.saturating_sub(st.early_input.len());
                    st.early_input
                        .extend_from_slice(&data[..data.len().min(room)]);
                }
                None => {}
            }
        }
        Incoming::Frame(_) => {}
    }
    Ok(())
}

async fn handle_agent_event(
    st: &mut State,
    conn: Option<&mut Connection>,
    event: Option<PtyEvent>,
) -> Result<(), ClientError> {
    match event {
        Some(PtyEvent::Output(data)) => {
            let offset = st.replay.push(data.clone());
            if st.opts.show_output {
                st.say(HostStatus::Output(data.clone()));
            }
            if let Some(c) = conn {
                c.send_frame(&Frame::Output { offset, data }).await?;
            }
        }
        Some(PtyEvent::Exited(_)) | None if st.agent.is_some() => {
            let code = match &event {
                Some(PtyEvent::Exited(s)) => s.code,
                _ => None,
            };
            st.agent = None;
            st.early_input.clear();
            st.gate.withdraw_all("the agent exited");
            st.say(HostStatus::AgentExited(code));
            let ran = st.started_at.map(|t| t.elapsed());
            if ran.is_some_and(|ran| ran < AGENT_MIN_RUN) {
                let shown = st
                    .opts
                    .command
                    .first()
                    .map(|c| c.to_string_lossy().into_owned())
                    .unwrap_or_default();
                st.failed = Some(format!(
                    "the agent `{shown}` exited {:.1} s after it started ({}); run it by hand in a terminal to see why, then host again",
                    ran.unwrap_or_default().as_secs_f32(),
                    code.map_or("killed by a signal".to_string(), |c| format!(
                        "exit code {c}"
                    )),
                ));
            }
            // The relay ends the session: without its agent it has nothing to share.
            match conn {
                Some(c) => {
                    drain_gate(st, Some(&mut *c)).await?;
                    c.send(&ClientMessage::Exit { code }).await?;
                }
                None => {
                    let _ = drain_gate(st, None).await;
                    st.exit_unsent = Some(code);
                }
            }
        }
        _ => {}
    }
    Ok(())
}
