//! The system under test: an in-process relay, the real host agent running a real program in a
//! PTY, and viewers on real WebSocket connections over loopback.

use anyhow::{Context, bail};
use bytes::Bytes;
use roulette_cli::host::{HostOptions, HostStatus, LocalInput, run_host};
use roulette_core::RoomKind;
use roulette_pty::WorkDir;
use roulette_server::{Server, ServerConfig};
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, Frame, ServerMessage};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A running relay.
pub struct Relay {
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// Its data directory.
    pub data: tempfile::TempDir,
    /// The host token used by every host agent here.
    pub host_token: String,
    stop: CancellationToken,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The relay's configuration for benchmarks: no planning, no line approval, and otherwise the
/// defaults.
pub fn bench_config() -> ServerConfig {
    let mut c = ServerConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..ServerConfig::default()
    };
    c.session.planning_duration = Duration::ZERO;
    c.session.host_approves_remote_lines = false;
    c.limits.messages_per_second = 100_000;
    c.limits.input_frames_per_second = 100_000;
    c.limits.max_connections = 100_000;
    c.limits.outbound_queue = std::env::var("BENCH_QUEUE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(c.limits.outbound_queue);
    c
}

impl Relay {
    /// Starts a relay in this process.
    pub async fn start(mut config: ServerConfig) -> anyhow::Result<Relay> {
        let data = tempfile::tempdir()?;
        config.data_dir = data.path().to_path_buf();
        let server = Server::bind(config).await?;
        let url = format!("http://{}", server.local_addr());
        let stop = server.shutdown_token();
        tokio::spawn(server.run());
        let host_token =
            roulette_server::mint_host_token(data.path(), Duration::from_secs(86_400))?;
        Ok(Relay {
            url,
            data,
            host_token,
            stop,
        })
    }

    /// A host agent running `command`, waiting in the queue.
    pub fn host(&self, command: &[&str]) -> Host {
        self.host_with(command, &self.host_token)
    }

    /// A host agent with its own token (for several rooms at once).
    pub fn host_with(&self, command: &[&str], token: &str) -> Host {
        let mut opts = HostOptions::new(self.url.clone(), token.to_string());
        opts.command = command.iter().map(Into::into).collect();
        opts.workdir = WorkDir::Temp;
        opts.once = true;
        let (status_tx, status) = mpsc::unbounded_channel();
        let (local, local_rx) = mpsc::channel(256);
        let stop = CancellationToken::new();
        tokio::spawn(run_host(opts, status_tx, local_rx, stop.clone()));
        Host {
            status,
            local,
            stop,
        }
    }

    /// Another host token.
    pub fn new_host_token(&self) -> anyhow::Result<String> {
        Ok(roulette_server::mint_host_token(
            self.data.path(),
            Duration::from_secs(86_400),
        )?)
    }

    /// A guest that queues for a partner and waits until the session is building.
    pub async fn partner(&self) -> anyhow::Result<Connection> {
        let mut conn = Connection::connect(&self.url, Endpoint::Participant, None, None).await?;
        conn.send(&ClientMessage::FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        })
        .await?;
        until(&mut conn, |m| matches!(m, ServerMessage::Building { .. })).await?;
        Ok(conn)
    }

    /// Another window of the host's: a viewer of the host's room.
    pub async fn host_viewer(&self) -> anyhow::Result<Connection> {
        let mut conn = Connection::connect(
            &self.url,
            Endpoint::Participant,
            Some(&self.host_token),
            None,
        )
        .await?;
        until(&mut conn, |m| matches!(m, ServerMessage::Building { .. })).await?;
        Ok(conn)
    }
}

/// A running host agent.
pub struct Host {
    /// What it reports.
    pub status: mpsc::UnboundedReceiver<HostStatus>,
    /// The host's keyboard.
    pub local: mpsc::Sender<LocalInput>,
    stop: CancellationToken,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Host {
    /// Waits for a status.
    pub async fn wait_for(
        &mut self,
        pred: impl Fn(&HostStatus) -> bool,
    ) -> anyhow::Result<HostStatus> {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let s = self.status.recv().await.context("host agent stopped")?;
                if pred(&s) {
                    return Ok(s);
                }
            }
        })
        .await
        .context("host agent status timed out")?
    }

    /// Waits until the session has ended (or the agent has stopped), so that the next run
    /// with this token starts from the queue.
    pub async fn finished(&mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(s) = self.status.recv().await {
                if matches!(s, HostStatus::Ended(_)) {
                    return;
                }
            }
        })
        .await;
    }

    /// The host types.
    pub async fn keys(&self, keys: &'static [u8]) -> anyhow::Result<()> {
        self.local
            .send(LocalInput::Keys(Bytes::from_static(keys)))
            .await
            .context("host agent gone")
    }

    /// The host sends a message.
    pub async fn say(&self, m: ClientMessage) -> anyhow::Result<()> {
        self.local
            .send(LocalInput::Message(m))
            .await
            .context("host agent gone")
    }
}

/// Reads until a control message matches.
pub async fn until(
    conn: &mut Connection,
    pred: impl Fn(&ServerMessage) -> bool,
) -> anyhow::Result<ServerMessage> {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match conn.next().await? {
                Some(Incoming::Message(m)) if pred(&m) => return Ok(m),
                Some(_) => {}
                None => bail!("connection ended"),
            }
        }
    })
    .await
    .context("timed out waiting for a message")?
}

/// A guest driving: it asks to swap and the host accepts.
pub async fn make_driver(host: &mut Host, guest: &mut Connection) -> anyhow::Result<()> {
    guest.send(&ClientMessage::RequestSwap {}).await?;
    host.wait_for(|s| matches!(s, HostStatus::Message(ServerMessage::SwapRequested { .. })))
        .await?;
    host.say(ClientMessage::AnswerSwap { accept: true }).await?;
    until(guest, |m| matches!(m, ServerMessage::DriverChanged { .. })).await?;
    Ok(())
}

/// Terminal output from a viewer connection: (offset, bytes), or a snapshot.
pub enum Out {
    /// Live output.
    Bytes(u64, Bytes),
    /// A snapshot at an offset.
    Snapshot(Bytes),
}

/// The next piece of terminal output (control messages are skipped).
pub async fn next_output(conn: &mut Connection) -> anyhow::Result<Out> {
    loop {
        match conn.next().await? {
            Some(Incoming::Frame(Frame::Output { offset, data })) => {
                return Ok(Out::Bytes(offset, data));
            }
            Some(Incoming::Frame(Frame::Snapshot { data, .. })) => {
                return Ok(Out::Snapshot(data));
            }
            Some(_) => {}
            None => bail!("connection ended"),
        }
    }
}

/// Sends keystrokes as the driver.
pub async fn type_keys(conn: &mut Connection, keys: &[u8]) -> anyhow::Result<()> {
    conn.send_frame(&Frame::Input {
        offset: 0,
        data: Bytes::copy_from_slice(keys),
    })
    .await?;
    Ok(())
}
