//! One task per WebSocket connection: the `hello` handshake within the authentication
//! deadline, then every frame checked against the limits and routed to the lobby or the room.
//! A second task writes the connection's outbound queue to the socket and pings it.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use roulette_core::{RateLimit, TokenBucket};
use roulette_transport::{
    ClientMessage, CloseCode, ErrorCode, Frame, PROTOCOL_VERSION, Reassembler, ServerMessage, Text,
    agree_version, limits::MAX_CONTROL_MESSAGE,
};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::Shared;
use crate::auth::Audience;
use crate::chat::{ChatRules, Verdict};
use crate::wiring::{ConnRef, Endpoint, LobbyCmd, Notice, Outbound, RoomCmd, sleep_until};

/// Runs one connection to its end.
pub async fn run_connection(
    socket: WebSocket,
    endpoint: Endpoint,
    shared: Arc<Shared>,
    addr: crate::gate::AddrKey,
    permit: Option<crate::gate::AddrPermit>,
) {
    shared.metrics.connections.inc();
    shared.store.bump("connections", 1);
    let (sink, mut stream) = socket.split();
    let (out_tx, out_rx) = mpsc::channel(shared.config.limits.outbound_queue);
    let (notice_tx, mut notices) = mpsc::channel(crate::wiring::NOTICE_QUEUE);
    let stop = CancellationToken::new();
    let writer = tokio::spawn(write_loop(
        sink,
        out_rx,
        stop.clone(),
        shared.shutdown.clone(),
        if endpoint == Endpoint::Chat {
            shared.config.chat.heartbeat
        } else {
            shared.config.limits.ping_interval
        },
    ));
    let conn = ConnRef {
        conn_id: shared.next_conn.fetch_add(1, Ordering::Relaxed),
        endpoint,
        out: out_tx.clone(),
        notices: notice_tx,
    };

    let addr = Some(addr);
    if let Some(participant) = handshake(&mut stream, &conn, &shared, addr.clone()).await {
        tracing::info!(conn = conn.conn_id, %participant, ?endpoint, "connection open");
        read_loop(&mut stream, &mut notices, &conn, participant, &shared, addr).await;
        tracing::info!(conn = conn.conn_id, %participant, "connection closed");
        let _ = shared
            .lobby
            .send(LobbyCmd::Gone {
                participant,
                conn_id: conn.conn_id,
                endpoint,
            })
            .await;
    }
    // Let queued messages (an error, a close) go out, then stop the writer.
    drop(conn);
    drop(out_tx);
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stop.cancel();
        let _ = writer.await;
    })
    .await;
    // The address's count goes down before the gauge does: whoever sees the gauge fall may
    // open the next socket.
    drop(permit);
    shared.metrics.connections.dec();
}

fn close(conn: &ConnRef, code: CloseCode, reason: &'static str) {
    let _ = conn.out.try_send(Outbound::Close(code, reason));
}

/// Waits for `hello`, checks its version and credential, and registers with the lobby.
async fn handshake(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    conn: &ConnRef,
    shared: &Shared,
    addr: Option<crate::gate::AddrKey>,
) -> Option<roulette_core::ParticipantId> {
    let deadline = tokio::time::Instant::now() + shared.config.limits.auth_deadline;
    let text = loop {
        let first = tokio::time::timeout_at(deadline, stream.next()).await;
        match first {
            Err(_) => {
                close(conn, CloseCode::AuthTimeout, "no hello in time");
                return None;
            }
            // Pings and pongs are the WebSocket layer's business, not a first message.
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Text(text)))) => break text,
            Ok(Some(Ok(_))) => {
                close(
                    conn,
                    CloseCode::ProtocolError,
                    "the first message must be hello",
                );
                shared.metrics.violations.inc();
                return None;
            }
            Ok(Some(Err(e))) => {
                shared.metrics.violations.inc();
                close(conn, read_error_code(&e), "bad frame");
                return None;
            }
            Ok(None) => return None,
        }
    };
    if text.len() > MAX_CONTROL_MESSAGE {
        close(conn, CloseCode::MessageTooBig, "message too big");
        shared.metrics.violations.inc();
        return None;
    }
    let (versions, ticket, resume_from) = match ClientMessage::decode(&text) {
        Ok(ClientMessage::Hello {
            versions,
            ticket,
            resume_from,
        }) => (versions, ticket, resume_from),
        Ok(_) => {
            conn.send(&error(
                ErrorCode::BadHandshake,
                "the first message must be hello",
            ));
            close(
                conn,
                CloseCode::ProtocolError,
                "the first message must be hello",
            );
            shared.metrics.violations.inc();
            return None;
        }
        Err(e) => {
            close(conn, e.close_code(), "malformed hello");
            shared.metrics.violations.inc();
            return None;
        }
    };
    if agree_version(&versions) != Some(PROTOCOL_VERSION) {
        conn.send(&error(
            ErrorCode::UnsupportedVersion,
            "this server speaks protocol version 1",
        ));
        close(conn, CloseCode::UnsupportedVersion, "unsupported version");
        return None;
    }
    let audiences: &[Audience] = match conn.endpoint {
        // A host may also watch from a participant connection (their own browser or terminal).
        Endpoint::Participant => &[
            Audience::ParticipantTicket,
            Audience::Participant,
            Audience::HostTicket,
            Audience::Host,
        ],
        Endpoint::Host => &[Audience::HostTicket, Audience::Host],
        // A chat client comes back (a window taking over a conversation) with its guest token.
        Endpoint::Chat => &[Audience::ParticipantTicket, Audience::Participant],
    };
    let mut new_guest_token = None;
    let identity = match ticket {
        Some(t) => shared.auth.verify(&t, audiences).ok(),
        // Anonymous guest sign-in for terminal clients and bots.
        None if conn.endpoint != Endpoint::Host => {
            let kind = if conn.endpoint == Endpoint::Chat {
                "chat"
            } else {
                "guest"
            };
            let subject = format!("{kind}:{}", crate::auth::random_id());
            let token = shared.auth.mint(
                Audience::Participant,
                &subject,
                shared.config.guest_token_ttl,
            );
            new_guest_token = Some(token);
            Some(crate::auth::Identity {
                subject,
                audience: Audience::Participant,
                name: None,
            })
        }
        None => None,
    };
    let Some(identity) = identity else {
        // The credential itself is never logged.
        tracing::info!(conn = conn.conn_id, "refused credentials");
        close(conn, CloseCode::Unauthorized, "invalid credentials");
        return None;
    };
    let (reply, welcome) = oneshot::channel();
    shared
        .lobby
        .send(LobbyCmd::Hello {
            subject: identity.subject,
            name: identity.name,
            conn: conn.clone(),
            resume_from,
            guest_token: new_guest_token,
            addr,
            reply,
        })
        .await
        .ok()?;
    match welcome.await.ok()? {
        Ok(welcome) => Some(welcome.participant),
        Err(code) => {
            close(conn, code, "banned after repeated violations");
            None
        }
    }
}

fn error(code: ErrorCode, message: &str) -> ServerMessage {
    ServerMessage::Error {
        code,
        message: Text::truncate(message),
    }
}

fn is_lobby_message(m: &ClientMessage) -> bool {
    matches!(
        m,
        ClientMessage::FindPartner { .. }
            | ClientMessage::CancelSearch {}
            | ClientMessage::CreateInvite {}
            | ClientMessage::RedeemInvite { .. }
            | ClientMessage::Insights {}
    )
}

/// The next tick of an optional interval; never without one.
async fn tick(interval: Option<&mut tokio::time::Interval>) -> Option<tokio::time::Instant> {
    match interval {
        Some(i) => Some(i.tick().await),
        None => std::future::pending().await,
    }
}

fn tokio_now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// Reads frames until the socket ends, the peer breaks the rules too often, or the server
/// stops.
async fn read_loop(
    stream: &mut futures::stream::SplitStream<WebSocket>,
    notices: &mut mpsc::Receiver<Notice>,
    conn: &ConnRef,
    participant: roulette_core::ParticipantId,
    shared: &Shared,
    addr: Option<crate::gate::AddrKey>,
) {
    let limits = &shared.config.limits;
    let mut chat = (conn.endpoint == Endpoint::Chat).then(|| {
        let rules = ChatRules::new(
            shared.config.chat.clone(),
            tokio_now(),
            crate::auth::random_id(),
        );
        conn.send(&rules.challenge(tokio_now()));
        rules
    });
    // Only chat sockets are checked for heartbeats; other connections carry no timer for it.
    let mut heartbeat = chat.is_some().then(|| {
        let mut i = tokio::time::interval(crate::chat::heartbeat_check(&shared.config.chat));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    let mut messages = TokenBucket::new(RateLimit::new(
        limits.messages_per_second,
        Duration::from_secs(1) / limits.messages_per_second.max(1),
    ));
    let mut inputs = TokenBucket::new(RateLimit::new(
        limits.input_frames_per_second,
        Duration::from_secs(1) / limits.input_frames_per_second.max(1),
    ));
    let mut acks = TokenBucket::new(RateLimit::new(
        limits.input_frames_per_second * 10,
        Duration::from_secs(1) / (limits.input_frames_per_second * 10).max(1),
    ));
    let mut violations = 0u32;
    let mut reassembler = Reassembler::default();
    let mut room: Option<mpsc::Sender<RoomCmd>> = None;
    let violation = |violations: &mut u32| {
        *violations += 1;
        shared.metrics.violations.inc();
        if let Some(addr) = &addr {
            let _ = shared
                .lobby
                .try_send(LobbyCmd::Violation { addr: addr.clone() });
        }
        tracing::warn!(conn = conn.conn_id, %participant, count = *violations, "violation");
        *violations > limits.max_violations
    };
    loop {
        let message = tokio::select! {
            m = stream.next() => m,
            notice = notices.recv() => {
                match notice {
                    Some(Notice::Room(tx)) => room = Some(tx),
                    Some(Notice::NoRoom) => room = None,
                    Some(Notice::Close(code)) => {
                        close(conn, code, "closed by the server");
                        return;
                    }
                    None => {}
                }
                continue;
            }
            () = shared.shutdown.cancelled() => return,
            () = sleep_until(chat.as_ref().and_then(ChatRules::pow_deadline)), if room.is_none() => {
                close(conn, CloseCode::ProofTimeout, "the challenge was not solved in time");
                if let Some(addr) = &addr {
                    let _ = shared.lobby.try_send(LobbyCmd::Violation { addr: addr.clone() });
                }
                return;
            }
            Some(_) = tick(heartbeat.as_mut()) => {
                if chat.as_ref().is_some_and(|c| c.heartbeats_missed(tokio_now())) {
                    close(conn, CloseCode::HeartbeatMissed, "no answer to pings");
                    return;
                }
                continue;
            }
        };
        if let Some(rules) = &mut chat {
            rules.heard(tokio_now());
        }
        let message = match message {
            Some(Ok(m)) => m,
            // A read error: a message over the WebSocket layer's own cap (four times ours), bad
            // UTF-8 in a text frame, a protocol error, or a broken socket.
            Some(Err(e)) => {
                tracing::debug!(error = %e, "connection read failed");
                shared.metrics.violations.inc();
                close(conn, read_error_code(&e), "bad frame");
                return;
            }
            None => return,
        };
        match message {
            Message::Text(text) => {
                if text.len() > MAX_CONTROL_MESSAGE {
                    close(conn, CloseCode::MessageTooBig, "message too big");
                    shared.metrics.violations.inc();
                    return;
                }
                let decoded = match ClientMessage::decode(&text) {
                    Ok(m) => m,
                    Err(e) => {
                        conn.send(&error(ErrorCode::BadMessage, &e.to_string()));
                        if violation(&mut violations) {
                            close(conn, CloseCode::PolicyViolation, "too many bad messages");
                            return;
                        }
                        continue;
                    }
                };
                // Acknowledgements of output come often by design and cost little; they have a
                // bucket of their own, as large as the input one.
                let bucket = if matches!(decoded, ClientMessage::Ack { .. }) {
                    &mut acks
                } else {
                    &mut messages
                };
                if let Err(retry) = bucket.try_take(tokio_now()) {
                    conn.send(&error(
                        ErrorCode::RateLimited,
                        &format!("too many messages; retry in {} ms", retry.as_millis()),
                    ));
                    if violation(&mut violations) {
                        close(conn, CloseCode::RateLimited, "too many messages");
                        return;
                    }
                    continue;
                }
                shared.metrics.messages.inc();
                if let Some(rules) = &mut chat {
                    match rules.check(tokio_now(), &decoded) {
                        Verdict::Pass => {}
                        Verdict::Answer(answer) => {
                            conn.send(&answer);
                            continue;
                        }
                        Verdict::Refuse(code, text, counts) => {
                            conn.send(&error(code, &text));
                            if counts && violation(&mut violations) {
                                close(conn, CloseCode::PolicyViolation, "too many violations");
                                return;
                            }
                            continue;
                        }
                    }
                }
                if let ClientMessage::Hello { .. } = decoded {
                    conn.send(&error(ErrorCode::BadHandshake, "hello was already sent"));
                    if violation(&mut violations) {
                        close(conn, CloseCode::PolicyViolation, "too many bad messages");
                        return;
                    }
                } else if is_lobby_message(&decoded) {
                    let _ = shared
                        .lobby
                        .send(LobbyCmd::Request {
                            participant,
                            conn_id: conn.conn_id,
                            message: decoded,
                        })
                        .await;
                } else if let Some(room) = &room {
                    let _ = room
                        .send(RoomCmd::Message {
                            participant,
                            conn_id: conn.conn_id,
                            message: decoded,
                        })
                        .await;
                } else {
                    conn.send(&error(ErrorCode::NotMember, "you are not in a session"));
                }
            }
            Message::Binary(_) if chat.is_some() => {
                conn.send(&error(
                    ErrorCode::Forbidden,
                    "the chat roulette takes no binary frames",
                ));
                if violation(&mut violations) {
                    close(conn, CloseCode::PolicyViolation, "too many bad frames");
                    return;
                }
            }
            Message::Binary(bytes) => {
                let frame = match reassembler.push(bytes) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => continue,
                    Err(e) => {
                        shared.metrics.violations.inc();
                        close(conn, e.close_code(), "bad frame");
                        return;
                    }
                };
                match (conn.endpoint, frame) {
                    (_, Frame::Input { data, .. }) => {
                        if inputs.try_take(tokio_now()).is_err() {
                            if violation(&mut violations) {
                                close(conn, CloseCode::RateLimited, "too much input");
                                return;
                            }
                            continue;
                        }
                        match &room {
                            Some(room) => {
                                let _ = room
                                    .send(RoomCmd::Input {
                                        participant,
                                        conn_id: conn.conn_id,
                                        data,
                                    })
                                    .await;
                            }
                            None => {
                                conn.send(&error(ErrorCode::NotMember, "you are not in a session"));
                            }
                        }
                    }
                    (Endpoint::Host, Frame::Output { offset, data }) => {
                        if let Some(room) = &room {
                            let _ = room
                                .send(RoomCmd::Output {
                                    conn_id: conn.conn_id,
                                    offset,
                                    data,
                                })
                                .await;
                        }
                    }
                    _ => {
                        conn.send(&error(
                            ErrorCode::Forbidden,
                            "this endpoint does not accept that frame",
                        ));
                        if violation(&mut violations) {
                            close(conn, CloseCode::PolicyViolation, "too many bad frames");
                            return;
                        }
                    }
                }
            }
            Message::Pong(payload) => {
                if let Some(rtt) = rtt_from(&payload) {
                    let _ = shared
                        .lobby
                        .send(LobbyCmd::Latency { participant, rtt })
                        .await;
                }
            }
            Message::Ping(_) => {}
            Message::Close(_) => return,
        }
    }
}

/// The close code for a WebSocket read error. axum wraps the WebSocket library's error without
/// exposing its type, so the kind is read from its message.
fn read_error_code(e: &axum::Error) -> CloseCode {
    let text = e.to_string().to_ascii_lowercase();
    if text.contains("utf-8") || text.contains("utf8") {
        CloseCode::InvalidPayload
    } else if text.contains("space limit") || text.contains("too long") || text.contains("too big")
    {
        CloseCode::MessageTooBig
    } else {
        CloseCode::ProtocolError
    }
}

/// Microseconds since this process's first ping, as the ping payload.
fn ping_payload() -> Bytes {
    Bytes::copy_from_slice(&clock_micros().to_be_bytes())
}

fn clock_micros() -> u64 {
    static START: std::sync::OnceLock<tokio::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(tokio::time::Instant::now);
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

fn rtt_from(payload: &[u8]) -> Option<Duration> {
    let sent = u64::from_be_bytes(payload.try_into().ok()?);
    let now = clock_micros();
    (now >= sent).then(|| Duration::from_micros(now - sent))
}

async fn write_loop(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut out: mpsc::Receiver<Outbound>,
    stop: CancellationToken,
    shutdown: CancellationToken,
    ping_every: Duration,
) {
    // The first ping waits one interval: a client has enough to do saying hello.
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let item = tokio::select! {
            biased;
            item = out.recv() => item,
            () = shutdown.cancelled() => {
                let bye = ServerMessage::Shutdown { reconnect_after_ms: 500 };
                if let Some(Outbound::Text(t)) = Outbound::message(&bye) {
                    let _ = sink.send(Message::Text(t.into())).await;
                }
                let _ = sink.send(close_message(CloseCode::GoingAway, "server shutting down")).await;
                return;
            }
            () = stop.cancelled() => {
                // Flush what is queued, then end.
                while let Ok(item) = out.try_recv() {
                    if send(&mut sink, item).await.is_err() {
                        break;
                    }
                }
                let _ = sink.close().await;
                return;
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(ping_payload())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let Some(item) = item else {
            let _ = sink.close().await;
            return;
        };
        match send(&mut sink, item).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return,
        }
    }
}

fn close_message(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.code(),
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Sends one item; `Ok(false)` after a close.
async fn send(
    sink: &mut futures::stream::SplitSink<WebSocket, Message>,
    item: Outbound,
) -> Result<bool, axum::Error> {
    match item {
        Outbound::Text(t) => sink.send(Message::Text(t.into())).await.map(|()| true),
        Outbound::Binary(b) => sink.send(Message::Binary(b)).await.map(|()| true),
        Outbound::Close(code, reason) => {
            let _ = sink.send(close_message(code, reason)).await;
            Ok(false)
        }
    }
}
