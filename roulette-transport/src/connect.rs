//! A WebSocket client for the Roulette protocol (feature `client`): connect to `/ws` or
//! `/host`, say `hello`, then send and receive typed messages and frames.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::frame::{Frame, FrameError};
use crate::text::{List, Text};
use crate::ws::{WsMessage, WsReader, frame_to_ws};
use crate::{ClientMessage, CloseCode, DecodeError, PROTOCOL_VERSION, ServerMessage};

/// Why the client failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The WebSocket failed (connect, read or write).
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server sent a message that does not decode.
    #[error("bad message from the server: {0}")]
    Decode(#[from] DecodeError),
    /// The server sent a bad frame.
    #[error("bad frame from the server: {0}")]
    Frame(#[from] FrameError),
    /// The server closed the connection.
    #[error("closed by the server ({code}): {reason}")]
    Closed {
        /// The close code.
        code: u16,
        /// The reason it gave.
        reason: String,
    },
    /// The server did not answer `hello` with `welcome`.
    #[error("the server did not welcome us: {0}")]
    Handshake(String),
    /// A field too long to send.
    #[error("{0}")]
    TooLong(#[from] crate::text::TooLong),
    /// The connection could not be made, with the cause in plain words.
    #[error("{0}")]
    Connect(ConnectFailure),
}

/// Why a connection could not be made, in plain words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ConnectFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// A sentence that says what happened and what to do.
    pub detail: String,
}

/// The kinds of [`ConnectFailure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The server's certificate is not trusted (or not for this name): retrying cannot help.
    CertificateNotTrusted,
    /// TLS could not be set up here (no root certificates, an unreadable CA file).
    TlsSetup,
    /// The server's name could not be resolved.
    NameNotResolved,
    /// Nothing listens at that address.
    ConnectionRefused,
    /// The server refused the WebSocket upgrade (a foreign Origin, a ban, too many sockets).
    Refused,
    /// The address is not a server address Roulette can use.
    BadAddress,
    /// Anything else (a dropped connection, a timeout).
    Other,
}

impl ConnectFailure {
    /// Whether retrying can help: not with a certificate that is not trusted, TLS that cannot
    /// be set up, or a bad address.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::CertificateNotTrusted | FailureKind::TlsSetup | FailureKind::BadAddress
        )
    }

    fn from_ws(e: tokio_tungstenite::tungstenite::Error, url: &str) -> ConnectFailure {
        use tokio_tungstenite::tungstenite::Error as E;
        use tokio_tungstenite::tungstenite::error::TlsError;
        let host = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .unwrap_or(url)
            .to_string();
        let (kind, detail) = match &e {
            E::Tls(TlsError::Rustls(r)) => tls_failure(r, &host),
            E::Tls(TlsError::InvalidDnsName) => (
                FailureKind::BadAddress,
                format!(
                    "{host} is not a name a certificate can be checked against; use the server's DNS name"
                ),
            ),
            E::Io(io) => match io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(r) => tls_failure(r, &host),
                None if io.kind() == std::io::ErrorKind::ConnectionRefused => (
                    FailureKind::ConnectionRefused,
                    format!(
                        "the connection to {host} was refused: is the relay running at that address?"
                    ),
                ),
                None if io.to_string().contains("lookup address") => (
                    FailureKind::NameNotResolved,
                    format!(
                        "the name in {host} could not be resolved: check the server address and your network"
                    ),
                ),
                None => (FailureKind::Other, format!("could not reach {host}: {io}")),
            },
            E::Http(response) => match response.status().as_u16() {
                403 => (
                    FailureKind::Refused,
                    format!(
                        "{host} refused the connection (403): its Origin is not allowed, or this address is banned for a while"
                    ),
                ),
                429 => (
                    FailureKind::Refused,
                    format!(
                        "{host} refused the connection (429): too many connections from this address; it retries later"
                    ),
                ),
                status => (
                    FailureKind::Refused,
                    format!(
                        "{host} refused the WebSocket connection (HTTP {status}): is this a Roulette relay?"
                    ),
                ),
            },
            E::Url(why) => (
                FailureKind::BadAddress,
                format!(
                    "{url} is not a server address Roulette can use ({why}): give http:// or https:// and the host"
                ),
            ),
            other => (
                FailureKind::Other,
                format!("could not reach {host}: {other}"),
            ),
        };
        ConnectFailure { kind, detail }
    }
}

fn tls_failure(e: &rustls::Error, host: &str) -> (FailureKind, String) {
    match e {
        rustls::Error::InvalidCertificate(why) => (
            FailureKind::CertificateNotTrusted,
            format!(
                "the certificate of {host} is not trusted ({why:?}); if the server uses a private CA, pass --ca-file with its root certificate (or set SSL_CERT_FILE)"
            ),
        ),
        other => (
            FailureKind::Other,
            format!("the TLS handshake with {host} failed: {other}"),
        ),
    }
}

impl ClientError {
    /// The close code, when the server closed the connection with one.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            ClientError::Closed { code, .. } => CloseCode::from_code(*code),
            _ => None,
        }
    }
}

/// What arrives from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A control message.
    Message(ServerMessage),
    /// A binary frame: terminal output, input (to host agents) or a snapshot.
    Frame(Frame),
}

/// Which endpoint to connect to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `/ws`, as a participant.
    Participant,
    /// `/host`, as a host agent.
    Host,
    /// `/chat`, the chat roulette: anonymous, with a proof of work before queueing.
    Chat,
}

/// How much terminal output a client receives between acknowledgements.
pub const ACK_EVERY: u64 = 64 * 1024;

/// An open, welcomed connection.
#[derive(Debug)]
pub struct Connection {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    reader: WsReader,
    /// The `welcome` the server sent.
    pub welcome: ServerMessage,
    /// Acknowledge terminal output after this many bytes (`None`: never).
    ack_every: Option<u64>,
    received_until: u64,
    acked_until: u64,
}

/// `http://host:port` or `ws://host:port` (with or without a trailing slash) and an endpoint, as
/// a WebSocket URL.
pub fn ws_url(server: &str, endpoint: Endpoint) -> String {
    let base = server.trim_end_matches('/');
    let base = if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else {
        base.to_string()
    };
    let path = match endpoint {
        Endpoint::Participant => "/ws",
        Endpoint::Host => "/host",
        Endpoint::Chat => "/chat",
    };
    format!("{base}{path}")
}

impl Connection {
    /// Connects, sends `hello` with `credential` (a token or a ticket; none signs in as a new
    /// guest on `/ws`) and waits for `welcome`.
    pub async fn connect(
        server: &str,
        endpoint: Endpoint,
        credential: Option<&str>,
        resume_from: Option<u64>,
    ) -> Result<Connection, ClientError> {
        // A small read buffer: the library zero-fills its read buffer on every read, and the
        // default (128 KiB) made that a fifth of a bulk transfer's instructions. Frames are at
        // most 64 KiB; the buffer grows when one needs it. No Nagle delay for keystrokes.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(16 * 1024);
        let url = ws_url(server, endpoint);
        let connector = if url.starts_with("wss://") {
            let tls = crate::tls::client_config().map_err(|detail| {
                ClientError::Connect(ConnectFailure {
                    kind: FailureKind::TlsSetup,
                    detail,
                })
            })?;
            Some(tokio_tungstenite::Connector::Rustls(tls))
        } else {
            None
        };
        let (socket, _) =
            tokio_tungstenite::connect_async_tls_with_config(&url, Some(config), true, connector)
                .await
                .map_err(|e| ClientError::Connect(ConnectFailure::from_ws(e, &url)))?;
        let mut conn = Connection {
            socket,
            reader: WsReader::default(),
            welcome: ServerMessage::ChatStarted {},
            ack_every: Some(ACK_EVERY),
            received_until: resume_from.unwrap_or(0),
            acked_until: resume_from.unwrap_or(0),
        };
        conn.send(&ClientMessage::Hello {
            versions: List::new(vec![PROTOCOL_VERSION])?,
            ticket: credential.map(Text::new).transpose()?,
            resume_from,
        })
        .await?;
        match conn.next().await? {
            Some(Incoming::Message(welcome @ ServerMessage::Welcome { .. })) => {
                conn.welcome = welcome;
                Ok(conn)
            }
            Some(other) => Err(ClientError::Handshake(format!("{other:?}"))),
            None => Err(ClientError::Handshake("the connection closed".into())),
        }
    }

    /// The participant id and, for a new guest, the token to reconnect with.
    pub fn identity(&self) -> (roulette_core::ParticipantId, Option<String>) {
        match &self.welcome {
            ServerMessage::Welcome { you, token, .. } => {
                (*you, token.as_ref().map(|t| t.as_str().to_string()))
            }
            _ => (roulette_core::ParticipantId(0), None),
        }
    }

    /// The room the server says this participant is in, if any.
    pub fn room(&self) -> Option<roulette_core::RoomId> {
        match &self.welcome {
            ServerMessage::Welcome { room, .. } => *room,
            _ => None,
        }
    }

    /// Sends a control message.
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let text = message
            .encode()
            .map_err(|e| ClientError::Handshake(e.to_string()))?;
        self.socket.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// Sends a binary frame (fragmented as needed).
    pub async fn send_frame(&mut self, frame: &Frame) -> Result<(), ClientError> {
        for m in frame_to_ws(frame)? {
            self.socket.feed(Message::from(m)).await?;
        }
        self.socket.flush().await?;
        Ok(())
    }

    /// Sends raw bytes as one binary message, bypassing framing: for tests of the server's
    /// defences.
    pub async fn send_raw_binary(&mut self, bytes: Bytes) -> Result<(), ClientError> {
        self.socket.send(Message::Binary(bytes)).await?;
        Ok(())
    }

    /// Sends raw text as one text message, bypassing encoding: for tests of the server's
    /// defences.
    pub async fn send_raw_text(&mut self, text: String) -> Result<(), ClientError> {
        self.socket.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// Whether to acknowledge terminal output as it arrives (the default, every 64 KiB), so
    /// the server can keep output flowing at the pace this client reads it.
    pub fn set_auto_ack(&mut self, every: Option<u64>) {
        self.ack_every = every;
    }

    /// The stream position after the last output received (or of the last snapshot).
    pub fn received_until(&self) -> u64 {
        self.received_until
    }

    async fn note_output(&mut self, frame: &Frame) -> Result<(), ClientError> {
        match frame {
            Frame::Output { offset, data } => {
                self.received_until = self.received_until.max(offset + data.len() as u64);
            }
            Frame::Snapshot { offset, .. } => self.received_until = *offset,
            _ => return Ok(()),
        }
        if let Some(every) = self.ack_every
            && self.received_until >= self.acked_until.saturating_add(every)
        {
            self.acked_until = self.received_until;
            self.send(&ClientMessage::Ack {
                offset: self.received_until,
            })
            .await?;
        }
        Ok(())
    }

    /// The next message or frame; `Ok(None)` when the socket ended without a close frame, and
    /// `Err(Closed)` with the server's code when it closed.
    pub async fn next(&mut self) -> Result<Option<Incoming>, ClientError> {
        loop {
            let Some(message) = self.socket.next().await else {
                return Ok(None);
            };
            let message = message?;
            if let Message::Close(frame) = &message {
                let (code, reason) = frame
                    .as_ref()
                    .map(|f: &CloseFrame| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                return Err(ClientError::Closed { code, reason });
            }
            let Some(data) = WsMessage::from_tungstenite(message) else {
                continue;
            };
            match self.reader.push(data)? {
                Some(Frame::Control(text)) => {
                    return Ok(Some(Incoming::Message(ServerMessage::decode(&text)?)));
                }
                Some(frame) => {
                    self.note_output(&frame).await?;
                    return Ok(Some(Incoming::Frame(frame)));
                }
                None => continue,
            }
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// A seed for jitter from the OS's random generator (zero if none is available).
pub fn jitter_seed() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}
