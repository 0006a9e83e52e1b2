//! The host agent behind `roulette host`: it connects out to the relay, waits for a partner,
//! runs the agent in a PTY when matched, and streams it. Outbound connections only.
//!
//! - Input comes only from the driver the server names; the agent re-checks it here, removing
//!   back-tab (which would switch Claude Code's permission mode) from anyone but the host.
//! - When the link drops, the agent keeps running and its output is kept; the agent
//!   reconnects with exponential backoff and jitter and resends from the offset the server
//!   acknowledges, so viewers see every byte exactly once.

use bytes::Bytes;
use roulette_core::session::RemoteInputFilter;
use roulette_core::{LineId, ParticipantId, RoomKind};
use roulette_pty::{Agent, AgentConfig, PtyEvent, TermSize, WorkDir};
use roulette_transport::connect::{ClientError, Connection, Endpoint, Incoming, jitter_seed};
use roulette_transport::{Backoff, ClientMessage, CloseCode, Frame, ServerMessage};
use std::ffi::OsString;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::replay::Replay;

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
}

/// Flags that make an agent act without asking: a stranger must not get that by default.
pub const UNSAFE_FLAGS: &[&str] = &[
    "--dangerously-skip-permissions",
    "bypassPermissions",
    "--yolo",
];

/// Refuses an agent command line that switches off the agent's permission checks, unless the
/// host allowed it locally and explicitly.
pub fn check_agent_command<S: AsRef<str>>(command: &[S], allow_unsafe: bool) -> Result<(), String> {
    if allow_unsafe {
        return Ok(());
    }
    match command
        .iter()
        .map(AsRef::as_ref)
        .find(|a| UNSAFE_FLAGS.iter().any(|u| a.contains(u)))
    {
        Some(flag) => Err(format!(
            "refusing to give a stranger an agent started with {flag}; pass --allow-unsafe-agent-flags if you mean it"
        )),
        None => Ok(()),
    }
}

/// Most input kept for an agent that has not started yet.
const EARLY_INPUT_MAX: usize = 64 * 1024;

struct State {
    opts: HostOptions,
    agent: Option<Agent>,
    replay: Replay,
    applied_input: u64,
    /// Input that arrived before the agent started (bounded), written as soon as it runs.
    early_input: Vec<u8>,
    me: ParticipantId,
    driver: Option<ParticipantId>,
    filter: RemoteInputFilter,
    in_session: bool,
    size: TermSize,
    status: mpsc::UnboundedSender<HostStatus>,
    done: bool,
}

impl State {
    fn say(&self, s: HostStatus) {
        let _ = self.status.send(s);
    }
}

/// Runs the host agent until `stop` is cancelled, or after one session with `once`.
pub async fn run_host(
    opts: HostOptions,
    status: mpsc::UnboundedSender<HostStatus>,
    mut local: mpsc::Receiver<LocalInput>,
    stop: CancellationToken,
) -> Result<(), HostError> {
    let mut backoff = Backoff::new(opts.backoff_base, opts.backoff_max, jitter_seed());
    let mut st = State {
        replay: Replay::new(opts.replay_bytes),
        opts,
        agent: None,
        applied_input: 0,
        early_input: Vec::new(),
        me: ParticipantId(0),
        driver: None,
        filter: RemoteInputFilter::default(),
        in_session: false,
        size: TermSize::default(),
        status,
        done: false,
    };
    let mut conn: Option<Connection> = None;
    let mut retry_at = Some(tokio::time::Instant::now());
    loop {
        if st.done {
            break;
        }
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
                    Err(e) => {
                        match e.close_code() {
                            Some(CloseCode::Unauthorized) => return Err(HostError::Unauthorized),
                            _ => retry_at = Some(schedule(&st, &mut backoff)),
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
                    conn = None;
                    retry_at = Some(schedule(&st, &mut backoff));
                }
            }
            event = next_agent_event(&mut st.agent), if st.agent.is_some() => {
                if let Err(_e) = handle_agent_event(&mut st, conn.as_mut(), event).await {
                    conn = None;
                    retry_at = Some(schedule(&st, &mut backoff));
                }
            }
            input = local.recv() => {
                if let (Some(input), Some(c)) = (input, conn.as_mut()) {
                    let sent = match input {
                        LocalInput::Keys(data) => c.send_frame(&Frame::Input { offset: 0, data }).await,
                        LocalInput::ApproveLine(id) => c.send(&ClientMessage::DecideLine { id, approve: true }).await,
                        LocalInput::RejectLine(id) => c.send(&ClientMessage::DecideLine { id, approve: false }).await,
                        LocalInput::Message(m) => c.send(&m).await,
                    };
                    if sent.is_err() {
                        conn = None;
                        retry_at = Some(schedule(&st, &mut backoff));
                    }
                }
            }
        }
    }
    if let Some(agent) = st.agent.take() {
        agent.kill();
    }
    if let Some(c) = conn {
        c.close().await;
    }
    Ok(())
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
    }
    Ok(())
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
    if let Some(mut agent) = st.agent.take() {
        agent.kill();
        // Let it finish: its directory and processes are gone once it reports the exit.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while agent.next_event().await.is_some() {}
        })
        .await;
    }
    st.in_session = false;
    st.early_input.clear();
    st.replay.reset();
    st.applied_input = 0;
    st.driver = None;
    st.filter = RemoteInputFilter::default();
    st.say(HostStatus::Ended(reason));
    if st.opts.once {
        st.done = true;
    }
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
                if st.agent.is_none() {
                    let config = AgentConfig {
                        command: st.opts.command.clone(),
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
                            let early = std::mem::take(&mut st.early_input);
                            if !early.is_empty() {
                                let _ = agent.input().write(Bytes::from(early)).await;
                            }
                            st.agent = Some(agent);
                        }
                        Err(e) => {
                            st.say(HostStatus::Notice(format!(
                                "could not start the agent: {e}"
                            )));
                            conn.send(&ClientMessage::Leave {}).await?;
                        }
                    }
                }
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
            }
            ServerMessage::DriverChanged { driver, .. } => {
                st.driver = Some(driver);
                st.filter = RemoteInputFilter::default();
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
            ServerMessage::Ended { reason } => {
                st.say(HostStatus::Message(ServerMessage::Ended { reason }));
                end_session(st, format!("{reason:?}")).await;
                if !st.done {
                    look_for_partner(st, conn).await?;
                }
            }
            ServerMessage::Chat { from, text } => st.say(HostStatus::Notice(format!(
                "chat from {from}: {}",
                text.as_str()
            ))),
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
            // The local re-check: the server only forwards the driver's input, but a remote
            // driver still may not switch the agent's permission mode.
            if st.driver != Some(st.me) {
                data = Bytes::from(st.filter.filter(&data));
            }
            match &st.agent {
                Some(agent) if !data.is_empty() => {
                    let _ = agent.input().write(data).await;
                }
                Some(_) => {}
                // The driver typed before the agent started (the session began a moment ago):
                // kept, up to a bound, rather than lost.
                None if st.in_session => {
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
            st.say(HostStatus::AgentExited(code));
            if let Some(c) = conn {
                c.send(&ClientMessage::Exit { code }).await?;
                // Without its agent the session has nothing to share.
                c.send(&ClientMessage::Leave {}).await?;
            }
        }
        _ => {}
    }
    Ok(())
}
