//! Hosting from an embedder: the `roulette host` agent (a command in a PTY through
//! `roulette-pty`, streamed through the relay, reconnecting by itself), with its statuses as
//! [`Event`]s.

use roulette_cli::host::{HostOptions, HostStatus, LocalInput, run_host};
use roulette_pty::WorkDir;
use std::ffi::OsString;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::event::{Event, Local};

/// How to host.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The server.
    pub server: String,
    /// A host token.
    pub token: String,
    /// The command to run in the PTY (`claude` when empty).
    pub command: Vec<String>,
    /// Open an invite instead of queueing for a stranger.
    pub invite: bool,
    /// Stop after one session.
    pub once: bool,
    /// Report the agent's output as events too. Off by default: output that nobody takes
    /// would pile up in memory.
    pub show_output: bool,
    /// Allow agent flags that switch off its permission checks (such as
    /// `--dangerously-skip-permissions`). Off by default: the partner is a stranger.
    pub allow_unsafe_flags: bool,
}

/// A running host agent.
#[derive(Debug)]
pub struct Host {
    events: Mutex<mpsc::UnboundedReceiver<HostStatus>>,
    local: mpsc::Sender<LocalInput>,
    stop: CancellationToken,
}

fn describe(status: HostStatus) -> Option<Event> {
    let host = |status: &str, detail: String| {
        Some(Event::Local(Local::Host {
            status: status.into(),
            detail,
        }))
    };
    match status {
        HostStatus::Connected { you } => host("connected", you.0.to_string()),
        HostStatus::Waiting { position } => host("waiting", position.to_string()),
        HostStatus::Invite { code } => host("invite", code),
        HostStatus::Matched { partner } => host("matched", partner),
        HostStatus::AgentStarted { workdir } => {
            host("agent_started", workdir.to_string_lossy().into_owned())
        }
        HostStatus::Output(bytes) => Some(Event::output(0, &bytes)),
        HostStatus::LineHeld { id, preview } => host("line_held", format!("{}:{preview}", id.0)),
        HostStatus::ApprovalWaiting {
            id, tool, summary, ..
        } => host("approval_waiting", format!("{}:{tool}({summary})", id.0)),
        HostStatus::ApprovalResolved { id, outcome } => {
            host("approval_resolved", format!("{}:{outcome:?}", id.0))
        }
        HostStatus::Notice(text) => host("notice", text),
        HostStatus::Reconnecting { after } => host("reconnecting", after.as_millis().to_string()),
        HostStatus::Ended(why) => host("ended", why),
        HostStatus::AgentExited(code) => host(
            "agent_exited",
            code.map(|c| c.to_string()).unwrap_or_default(),
        ),
        HostStatus::Message(m) => Some(Event::Message(m)),
    }
}

impl Host {
    /// Starts the host agent; it connects, waits for a partner and runs the command when
    /// matched.
    pub fn start(config: HostConfig) -> Result<Host, Error> {
        if config.token.is_empty() {
            return Err(Error::InvalidArgument("a host token is needed".into()));
        }
        roulette_cli::host::check_agent_command(&config.command, config.allow_unsafe_flags)
            .map_err(Error::InvalidArgument)?;
        let mut opts = HostOptions::new(config.server, config.token);
        if !config.command.is_empty() {
            opts.command = config.command.iter().map(OsString::from).collect();
        }
        opts.workdir = WorkDir::Temp;
        opts.invite = config.invite;
        opts.once = config.once;
        opts.show_output = config.show_output;
        let (status_tx, status) = mpsc::unbounded_channel();
        let (local, local_rx) = mpsc::channel(64);
        let stop = CancellationToken::new();
        // Why it stopped (a failed pre-flight, a refused token) reaches the events too.
        let report = status_tx.clone();
        let stopped = stop.clone();
        tokio::spawn(async move {
            if let Err(e) = run_host(opts, status_tx, local_rx, stopped).await {
                let _ = report.send(HostStatus::Notice(format!("the host agent stopped: {e}")));
            }
        });
        Ok(Host {
            events: Mutex::new(status),
            local,
            stop,
        })
    }

    /// The next status; `None` when the agent has stopped.
    pub async fn next_event(&self) -> Option<Event> {
        let mut events = self.events.lock().await;
        loop {
            let status = events.recv().await?;
            if let Some(event) = describe(status) {
                return Some(event);
            }
        }
    }

    /// Allows or refuses a remote driver's held line (the host's own approval).
    pub async fn decide_line(&self, id: u64, allow: bool) -> Result<(), Error> {
        let id = roulette_core::LineId(id);
        let input = if allow {
            LocalInput::ApproveLine(id)
        } else {
            LocalInput::RejectLine(id)
        };
        self.local
            .send(input)
            .await
            .map_err(|_| Error::Closed(None))
    }

    /// Allows or denies a request of the agent's held for the host (the host's own decision).
    pub async fn decide_approval(&self, id: u64, allow: bool) -> Result<(), Error> {
        self.local
            .send(LocalInput::DecideApproval {
                id: roulette_core::ApprovalId(id),
                allow,
                reason: String::new(),
            })
            .await
            .map_err(|_| Error::Closed(None))
    }

    /// Sends a message as the host (chat, vote, answer a swap, open an invite...), given as
    /// JSON; it is checked first.
    pub async fn send_json(&self, json: &str) -> Result<(), Error> {
        let message = roulette_transport::ClientMessage::decode(json)
            .map_err(|e| Error::BadMessage(e.to_string()))?;
        self.local
            .send(LocalInput::Message(message))
            .await
            .map_err(|_| Error::Closed(None))
    }

    /// Types at the host's own keyboard (reaches the agent while the host drives).
    pub async fn keys(&self, data: bytes::Bytes) -> Result<(), Error> {
        self.local
            .send(LocalInput::Keys(data))
            .await
            .map_err(|_| Error::Closed(None))
    }

    /// Stops the agent and its process group.
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
