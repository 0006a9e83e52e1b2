//! A participant's connection: connect and authenticate, then one task that owns the socket,
//! sends what it is asked to, turns what arrives into [`Event`]s, solves the chat endpoint's
//! proof of work, and reconnects with backoff and jitter, resuming terminal output from the
//! last byte it holds.

use bytes::Bytes;
use roulette_transport::backoff::Backoff;
use roulette_transport::connect::{Connection, Endpoint, Incoming, jitter_seed};
use roulette_transport::{ClientMessage, CloseCode, Frame, ServerMessage, Text};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::event::{Event, Local};

/// Which endpoint to join as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `/ws`: pairing sessions (a browser's peer).
    Participant,
    /// `/chat`: the chat roulette.
    Chat,
}

/// How to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// The server, `http://host:port`.
    pub server: String,
    /// A participant token (from a guest sign-in, or one a previous connection was given);
    /// none signs in as a new guest.
    pub token: Option<String>,
    /// The endpoint.
    pub kind: Kind,
}

/// Who the server says this is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The participant id.
    pub participant: u64,
    /// The handle.
    pub name: String,
    /// The token to come back with (for a new guest).
    pub token: Option<String>,
}

/// What the connection's task is asked to send, and where to say how it went.
struct Command(Outgoing, oneshot::Sender<Result<(), Error>>);

enum Outgoing {
    Message(ClientMessage),
    Input(Bytes),
}

/// A connected participant.
#[derive(Debug)]
pub struct Participant {
    commands: mpsc::Sender<Command>,
    events: Mutex<mpsc::Receiver<Event>>,
    identity: Identity,
    stop: CancellationToken,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Outgoing::Message(m) => write!(f, "Send({})", m.kind()),
            Outgoing::Input(b) => write!(f, "Input({} bytes)", b.len()),
        }
    }
}

fn endpoint(kind: Kind) -> Endpoint {
    match kind {
        Kind::Participant => Endpoint::Participant,
        Kind::Chat => Endpoint::Chat,
    }
}

impl Participant {
    /// Connects and says hello; fails if the server cannot be reached or refuses the token.
    pub async fn connect(opts: ConnectOptions) -> Result<Participant, Error> {
        let conn = Connection::connect(
            &opts.server,
            endpoint(opts.kind),
            opts.token.as_deref(),
            None,
        )
        .await
        .map_err(|e| Error::from_connect(&opts.server, e))?;
        let (participant, token) = conn.identity();
        let name = match &conn.welcome {
            ServerMessage::Welcome { name, .. } => name.as_str().to_string(),
            _ => String::new(),
        };
        let identity = Identity {
            participant: participant.0,
            name,
            token: token.clone(),
        };
        let (commands, command_rx) = mpsc::channel(64);
        let (event_tx, events) = mpsc::channel(1024);
        let stop = CancellationToken::new();
        let token = token.or(opts.token.clone());
        let welcome = conn.welcome.clone();
        tokio::spawn(run(
            opts,
            token,
            conn,
            welcome,
            command_rx,
            event_tx,
            stop.clone(),
        ));
        Ok(Participant {
            commands,
            events: Mutex::new(events),
            identity,
            stop,
        })
    }

    /// Who the server says this is.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The next event; `None` once the connection is closed and every event was taken.
    pub async fn next_event(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Hands `outgoing` to the connection's task and waits until it is sent.
    async fn ask(&self, outgoing: Outgoing) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command(outgoing, reply))
            .await
            .map_err(|_| Error::Closed(None))?;
        answer.await.map_err(|_| Error::Closed(None))?
    }

    /// Sends a message.
    pub async fn send(&self, message: ClientMessage) -> Result<(), Error> {
        self.ask(Outgoing::Message(message)).await
    }

    /// Sends a message given as JSON (`{"type":"chat","text":"hi"}`); it is checked first.
    pub async fn send_json(&self, json: &str) -> Result<(), Error> {
        let message = ClientMessage::decode(json).map_err(|e| Error::BadMessage(e.to_string()))?;
        if let ClientMessage::Hello { .. } = message {
            return Err(Error::BadMessage(
                "hello is sent by the client itself".into(),
            ));
        }
        self.send(message).await
    }

    /// Sends terminal input (only the driver's reaches the agent).
    pub async fn input(&self, data: Bytes) -> Result<(), Error> {
        self.ask(Outgoing::Input(data)).await
    }

    /// Sends a chat message.
    pub async fn chat(&self, text: &str) -> Result<(), Error> {
        let text = Text::new(text).map_err(|e| Error::InvalidArgument(e.to_string()))?;
        self.send(ClientMessage::Chat { text }).await
    }

    /// Closes the connection; events already received can still be taken.
    pub fn close(&self) {
        self.stop.cancel();
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// What ended one connection.
enum Ended {
    Stopped,
    Lost(Option<CloseCode>, String),
}

async fn run(
    opts: ConnectOptions,
    token: Option<String>,
    mut conn: Connection,
    welcome: ServerMessage,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    stop: CancellationToken,
) {
    let _ = events.send(Event::Message(welcome)).await;
    let mut backoff = Backoff::new(
        Duration::from_millis(250),
        Duration::from_secs(15),
        jitter_seed(),
    );
    loop {
        let ended = serve(&mut conn, &mut commands, &events, &stop).await;
        let held = conn.received_until();
        conn.close().await;
        let (code, reason) = match ended {
            Ended::Stopped => {
                let _ = events
                    .send(Event::Local(Local::Closed {
                        code: None,
                        reason: "closed by the client".into(),
                    }))
                    .await;
                return;
            }
            Ended::Lost(code, reason) => (code, reason),
        };
        if code.is_some_and(|c| !c.should_reconnect()) {
            let _ = events
                .send(Event::Local(Local::Closed {
                    code: code.map(CloseCode::code),
                    reason,
                }))
                .await;
            return;
        }
        // Come back, resuming output after what is held.
        loop {
            let delay = backoff.next_delay();
            let _ = events
                .send(Event::Local(Local::Reconnecting {
                    in_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                }))
                .await;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = stop.cancelled() => {
                    let _ = events.send(Event::Local(Local::Closed { code: None, reason: "closed by the client".into() })).await;
                    return;
                }
            }
            match Connection::connect(
                &opts.server,
                endpoint(opts.kind),
                token.as_deref(),
                Some(held),
            )
            .await
            {
                Ok(c) => {
                    backoff.reset();
                    conn = c;
                    let _ = events.send(Event::Local(Local::Reconnected {})).await;
                    let _ = events.send(Event::Message(conn.welcome.clone())).await;
                    break;
                }
                Err(e) if e.close_code() == Some(CloseCode::Unauthorized) => {
                    let _ = events
                        .send(Event::Local(Local::Closed {
                            code: Some(CloseCode::Unauthorized.code()),
                            reason: "the token is no longer accepted".into(),
                        }))
                        .await;
                    return;
                }
                Err(_) => {}
            }
        }
    }
}

/// Runs one connection until it ends or the client stops.
async fn serve(
    conn: &mut Connection,
    commands: &mut mpsc::Receiver<Command>,
    events: &mpsc::Sender<Event>,
    stop: &CancellationToken,
) -> Ended {
    loop {
        tokio::select! {
            () = stop.cancelled() => return Ended::Stopped,
            command = commands.recv() => {
                let Some(Command(outgoing, reply)) = command else { return Ended::Stopped };
                let sent = match outgoing {
                    Outgoing::Message(message) => conn.send(&message).await,
                    Outgoing::Input(data) => conn.send_frame(&Frame::Input { offset: 0, data }).await,
                };
                let failed = sent.is_err();
                let _ = reply.send(sent.map_err(|e| Error::Closed(Some(e.to_string()))));
                if failed {
                    return Ended::Lost(None, "the connection failed".into());
                }
            }
            incoming = conn.next() => {
                let event = match incoming {
                    Ok(Some(Incoming::Message(ServerMessage::Challenge { prefix, bits, .. }))) => {
                        // The chat endpoint's proof of work: solved here, off the async threads.
                        let prefix = prefix.as_str().to_string();
                        let nonce = tokio::task::spawn_blocking(move || {
                            roulette_transport::pow::solve(&prefix, bits, 1 << 32)
                        })
                        .await
                        .ok()
                        .flatten()
                        .and_then(|n| Text::new(n).ok());
                        if let Some(nonce) = nonce
                            && conn.send(&ClientMessage::Solve { nonce }).await.is_err()
                        {
                            return Ended::Lost(None, "the connection failed".into());
                        }
                        continue;
                    }
                    Ok(Some(Incoming::Message(ServerMessage::Shutdown { .. }))) => {
                        return Ended::Lost(Some(CloseCode::GoingAway), "the server is restarting".into());
                    }
                    Ok(Some(Incoming::Message(m))) => Event::Message(m),
                    Ok(Some(Incoming::Frame(Frame::Output { offset, data }))) => Event::output(offset, &data),
                    Ok(Some(Incoming::Frame(Frame::Snapshot { offset, data }))) => Event::snapshot(offset, &data),
                    Ok(Some(Incoming::Frame(_))) => continue,
                    Ok(None) => return Ended::Lost(None, "the connection ended".into()),
                    Err(e) => return Ended::Lost(e.close_code(), e.to_string()),
                };
                if events.send(event).await.is_err() {
                    return Ended::Stopped;
                }
            }
        }
    }
}
