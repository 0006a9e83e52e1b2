//! The server's edges: HTTP routes, the Origin check, the handshake, credentials, and frames a
//! hostile client sends. After each bad input the server is unharmed.

mod common;
use common::*;
use roulette_transport::connect::{Connection, Endpoint};
use roulette_transport::{ClientMessage, CloseCode, ServerMessage};
use std::time::Duration;

#[tokio::test]
async fn health_metrics_and_the_page_are_served() {
    let server = TestServer::start().await;
    assert_eq!(get(server.addr, "/healthz").await, (200, "ok\n".into()));
    let (status, page) = get(server.addr, "/").await;
    assert_eq!(status, 200);
    assert!(page.contains("Roulette"));
    let _guest = server.guest().await;
    let (status, metrics) = get(server.addr, "/metrics").await;
    assert_eq!(status, 200);
    for name in [
        "roulette_connections 1",
        "roulette_rooms 0",
        "roulette_queue_length 0",
        "roulette_bytes_relayed_total",
        "roulette_violations_total",
        "roulette_reconnects_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from\n{metrics}");
    }
}

fn upgrade_request(addr: std::net::SocketAddr, path: &str, origin: Option<&str>) -> String {
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{origin}\r\n"
    )
}

/// The status line of an upgrade request (read up to the end of the headers only).
async fn upgrade_status(addr: std::net::SocketAddr, path: &str, origin: Option<&str>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(upgrade_request(addr, path, origin).as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_foreign_origin_gets_403_before_the_upgrade() {
    let server = TestServer::start().await;
    for path in ["/ws", "/host"] {
        assert_eq!(
            upgrade_status(server.addr, path, Some("https://evil.example")).await,
            403
        );
        assert_eq!(upgrade_status(server.addr, path, Some("null")).await, 403);
        let own = format!("http://{}", server.addr);
        assert_eq!(upgrade_status(server.addr, path, Some(&own)).await, 101);
        assert_eq!(upgrade_status(server.addr, path, None).await, 101);
    }
    let mut config = test_config();
    config.allowed_origins = vec!["https://app.example".into()];
    let server = TestServer::with_config(config).await;
    assert_eq!(
        upgrade_status(server.addr, "/ws", Some("https://app.example")).await,
        101
    );
    assert_eq!(
        upgrade_status(server.addr, "/ws", Some("https://app.example.evil")).await,
        403
    );
}

#[tokio::test]
async fn a_guest_keeps_its_identity_with_the_token_it_was_given() {
    let server = TestServer::start().await;
    let first = server.guest().await;
    let (id, token) = first.identity();
    let token = token.expect("a new guest gets a token");
    drop(first);
    let again = Connection::connect(&server.url, Endpoint::Participant, Some(&token), None)
        .await
        .unwrap();
    assert_eq!(again.identity(), (id, None));
}

#[tokio::test]
async fn credentials_are_checked_per_endpoint() {
    let server = TestServer::start().await;
    // No credential on /host, a forged one, and a participant's token on /host.
    let guest = server.guest().await;
    let guest_token = guest.identity().1.unwrap();
    for credential in [None, Some("not.a.jwt"), Some(guest_token.as_str())] {
        let err = Connection::connect(&server.url, Endpoint::Host, credential, None)
            .await
            .unwrap_err();
        assert_eq!(
            err.close_code(),
            Some(CloseCode::Unauthorized),
            "{credential:?}"
        );
    }
    // A token signed by another server's key.
    let other = TestServer::start().await;
    let foreign = other.new_host_token();
    let err = Connection::connect(&server.url, Endpoint::Host, Some(&foreign), None)
        .await
        .unwrap_err();
    assert_eq!(err.close_code(), Some(CloseCode::Unauthorized));
    assert!(server.host().await.identity().0.0 > 0);
}

#[tokio::test]
async fn tickets_are_single_use() {
    let server = TestServer::start().await;
    let (status, body) = http(
        server.addr,
        &format!("POST /api/guest HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", server.addr),
    )
    .await;
    assert_eq!(status, 200);
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let ticket_request = |token: &str| {
        format!(
            "POST /api/ticket HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            server.addr
        )
    };
    let (status, body) = http(server.addr, &ticket_request(&token)).await;
    assert_eq!(status, 200);
    let ticket: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ticket = ticket["ticket"].as_str().unwrap().to_string();
    assert!(
        Connection::connect(&server.url, Endpoint::Participant, Some(&ticket), None)
            .await
            .is_ok()
    );
    let replay = Connection::connect(&server.url, Endpoint::Participant, Some(&ticket), None)
        .await
        .unwrap_err();
    assert_eq!(replay.close_code(), Some(CloseCode::Unauthorized));
    // A ticket is no good as a token for minting more, and a bad token gets no ticket.
    assert_eq!(http(server.addr, &ticket_request(&ticket)).await.0, 401);
    assert_eq!(http(server.addr, &ticket_request("garbage")).await.0, 401);
}

#[tokio::test]
async fn the_handshake_has_rules() {
    let mut config = test_config();
    config.limits.auth_deadline = Duration::from_millis(300);
    let server = TestServer::with_config(config).await;
    let url = roulette_transport::connect::ws_url(&server.url, Endpoint::Participant);
    // Silence: closed at the authentication deadline.
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    use futures::StreamExt;
    let code = loop {
        match ws.next().await {
            Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f)))) => {
                break u16::from(f.code);
            }
            Some(Ok(_)) => continue,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(code, CloseCode::AuthTimeout.code());
    // A first message that is not hello, and a hello with no common version.
    for (text, expected) in [
        (r#"{"type":"typing"}"#, CloseCode::ProtocolError),
        (
            r#"{"type":"hello","versions":[99]}"#,
            CloseCode::UnsupportedVersion,
        ),
        ("not json", CloseCode::ProtocolError),
    ] {
        let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
        use futures::SinkExt;
        ws.send(tokio_tungstenite::tungstenite::Message::Text(text.into()))
            .await
            .unwrap();
        let code = loop {
            match ws.next().await {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f)))) => {
                    break u16::from(f.code);
                }
                Some(Ok(_)) => continue,
                other => panic!("{text}: {other:?}"),
            }
        };
        assert_eq!(code, expected.code(), "{text}");
    }
}

#[tokio::test]
async fn bad_frames_get_their_close_codes_and_the_server_is_unharmed() {
    let server = TestServer::start().await;
    // Oversized text.
    let mut c = server.guest().await;
    let _ = c.send_raw_text("x".repeat(70_000)).await;
    assert_eq!(closed_with(&mut c).await, CloseCode::MessageTooBig.code());
    // A binary packet with an unknown kind.
    let mut c = server.guest().await;
    c.send_raw_binary(bytes::Bytes::from_static(&[9, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
        .await
        .unwrap();
    assert_eq!(closed_with(&mut c).await, CloseCode::ProtocolError.code());
    // A control frame that is not UTF-8.
    let mut c = server.guest().await;
    c.send_raw_binary(bytes::Bytes::from_static(&[
        4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
    ]))
    .await
    .unwrap();
    assert_eq!(closed_with(&mut c).await, CloseCode::InvalidPayload.code());
    // Unknown types and malformed messages: an error each, then a close after too many.
    let mut c = server.guest().await;
    c.send_raw_text(r#"{"type":"become_admin"}"#.into())
        .await
        .unwrap();
    expect_message(&mut c, "an error", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: roulette_transport::ErrorCode::BadMessage,
                ..
            }
        )
    })
    .await;
    for _ in 0..20 {
        if c.send_raw_text("{".into()).await.is_err() {
            break;
        }
    }
    assert_eq!(closed_with(&mut c).await, CloseCode::PolicyViolation.code());
    // Output frames are for host agents only.
    let mut c = server.guest().await;
    for _ in 0..20 {
        let frame = roulette_transport::Frame::Output {
            offset: 0,
            data: bytes::Bytes::from_static(b"fake"),
        };
        if c.send_frame(&frame).await.is_err() {
            break;
        }
    }
    assert_eq!(closed_with(&mut c).await, CloseCode::PolicyViolation.code());
    // Still serving.
    assert_eq!(get(server.addr, "/healthz").await.0, 200);
    let mut fine = server.guest().await;
    fine.send(&ClientMessage::FindPartner {
        kind: roulette_core::RoomKind::Pairing,
        key: None,
    })
    .await
    .unwrap();
    expect_message(&mut fine, "queued", |m| {
        matches!(m, ServerMessage::Queued { .. })
    })
    .await;
    let (_, metrics) = get(server.addr, "/metrics").await;
    assert!(
        !metrics.contains("roulette_violations_total 0\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn tokens_stay_valid_across_a_restart() {
    let server = TestServer::start().await;
    let token = server.host_token();
    let (id, _) = server.host().await.identity();
    assert!(id.0 > 0);
    let dir = server.stop().await;
    let server = TestServer::in_dir(test_config(), dir).await;
    assert!(
        Connection::connect(&server.url, Endpoint::Host, Some(&token), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn chatty_clients_are_rate_limited_then_closed() {
    let mut config = test_config();
    config.limits.messages_per_second = 5;
    config.limits.max_violations = 3;
    let server = TestServer::with_config(config).await;
    let (_host, mut guest) = paired(&server).await;
    for i in 0..40 {
        let text = roulette_transport::Text::new(format!("spam {i}")).unwrap();
        if guest.send(&ClientMessage::Chat { text }).await.is_err() {
            break;
        }
    }
    expect_message(&mut guest, "rate limited", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: roulette_transport::ErrorCode::RateLimited,
                ..
            }
        )
    })
    .await;
    assert_eq!(closed_with(&mut guest).await, CloseCode::RateLimited.code());
}

#[tokio::test]
async fn a_shutdown_tells_clients_to_come_back() {
    let server = TestServer::start().await;
    let mut guest = server.guest().await;
    let stop = server.stop();
    let goodbye = tokio::spawn(async move {
        let mut saw_shutdown = false;
        loop {
            match guest.next().await {
                Ok(Some(roulette_transport::connect::Incoming::Message(
                    ServerMessage::Shutdown { .. },
                ))) => saw_shutdown = true,
                Ok(Some(_)) => {}
                Err(e) => return (saw_shutdown, e.close_code()),
                Ok(None) => return (saw_shutdown, None),
            }
        }
    });
    let _ = stop.await;
    let (saw_shutdown, code) = goodbye.await.unwrap();
    assert!(saw_shutdown, "no shutdown message");
    assert_eq!(code, Some(CloseCode::GoingAway));
    assert!(CloseCode::GoingAway.should_reconnect());
}

#[tokio::test]
async fn partners_see_each_others_latency() {
    let mut config = test_config();
    config.limits.ping_interval = Duration::from_millis(50);
    let server = TestServer::with_config(config).await;
    let (host, mut guest) = paired(&server).await;
    let host_id = host.identity().0;
    // The host's client answers pings while it reads; keep it reading.
    let mut host = host;
    let reader = tokio::spawn(async move { while let Ok(Some(_)) = host.next().await {} });
    let latency = expect_message(
        &mut guest,
        "the host's latency",
        |m| matches!(m, ServerMessage::Latency { who, .. } if *who == host_id),
    )
    .await;
    assert!(matches!(latency, ServerMessage::Latency { rtt_ms, .. } if rtt_ms < 5_000));
    reader.abort();
}

#[tokio::test]
async fn what_must_survive_a_restart_is_persisted_and_nothing_else() {
    let server = TestServer::start().await;
    let (_host, mut guest) = paired(&server).await;
    guest
        .send(&ClientMessage::Chat {
            text: roulette_transport::Text::new("a private chat line").unwrap(),
        })
        .await
        .unwrap();
    guest
        .send(&ClientMessage::Report {
            reason: roulette_transport::Text::new("rude").unwrap(),
        })
        .await
        .unwrap();
    expect_message(&mut guest, "ended", |m| {
        matches!(m, ServerMessage::Ended { .. })
    })
    .await;
    let mut inviter = server.host().await;
    inviter.send(&ClientMessage::CreateInvite {}).await.unwrap();
    let code = match expect_message(&mut inviter, "invite", |m| {
        matches!(m, ServerMessage::InviteCreated { .. })
    })
    .await
    {
        ServerMessage::InviteCreated { code, .. } => code.into_string(),
        _ => unreachable!(),
    };
    // Everything is written by the store thread; a counters query queues behind it.
    let store = server.shared.store.clone();
    let _ = store.counters().await.unwrap();
    let dir = server.stop().await;
    let server = TestServer::in_dir(test_config(), dir).await;
    let store = server.shared.store.clone();
    let reports = store.reports().await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].reason, "rude");
    let invites = store.invites().await.unwrap();
    assert_eq!(invites.len(), 1);
    assert_eq!(
        invites[0].hash_hex,
        roulette_core::InviteCode::parse(&code)
            .unwrap()
            .hash()
            .to_hex()
    );
    let counters = store.counters().await.unwrap();
    assert!(
        counters.get("connections").copied().unwrap_or(0) >= 3,
        "{counters:?}"
    );
    assert_eq!(counters.get("sessions"), Some(&1));
    // The database holds no chat, no invite code, no terminal bytes.
    let raw = std::fs::read(server.data_dir.path().join(roulette_server::store::DB_FILE)).unwrap();
    let wal = std::fs::read(
        server
            .data_dir
            .path()
            .join(format!("{}-wal", roulette_server::store::DB_FILE)),
    )
    .unwrap_or_default();
    for haystack in [&raw, &wal] {
        let text = String::from_utf8_lossy(haystack);
        assert!(!text.contains("a private chat line"));
        assert!(!text.contains(&code));
    }
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_is_closed_with_1007() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let mut s = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    s.write_all(upgrade_request(server.addr, "/ws", None).as_bytes())
        .await
        .unwrap();
    // Read the 101 response headers.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    // A masked text frame whose payload is not UTF-8.
    let payload = [0xffu8, 0xfe, 0x80];
    let mask = [1u8, 2, 3, 4];
    let mut frame = vec![0x81, 0x80 | payload.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    s.write_all(&frame).await.unwrap();
    // The server answers with a close frame carrying 1007.
    let mut reply = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut reply))
        .await
        .unwrap()
        .unwrap();
    assert!(n >= 4, "{:?}", &reply[..n]);
    assert_eq!(reply[0] & 0x0f, 0x8, "not a close frame: {:?}", &reply[..n]);
    let code = u16::from_be_bytes([reply[2], reply[3]]);
    assert_eq!(code, CloseCode::InvalidPayload.code());
    assert_eq!(get(server.addr, "/healthz").await.0, 200);
}

#[tokio::test]
async fn an_invite_link_still_works_after_a_restart() {
    let server = TestServer::start().await;
    let token = server.host_token();
    let mut inviter = server.host().await;
    inviter.send(&ClientMessage::CreateInvite {}).await.unwrap();
    let code = match expect_message(&mut inviter, "invite", |m| {
        matches!(m, ServerMessage::InviteCreated { .. })
    })
    .await
    {
        ServerMessage::InviteCreated { code, .. } => code.into_string(),
        _ => unreachable!(),
    };
    let _ = server.shared.store.counters().await.unwrap();
    drop(inviter);
    let dir = server.stop().await;
    let server = TestServer::in_dir(test_config(), dir).await;
    // Before the inviter is back, the code answers like any unknown one.
    let mut friend = server.guest().await;
    friend
        .send(&ClientMessage::RedeemInvite {
            code: roulette_transport::Text::new(code.clone()).unwrap(),
        })
        .await
        .unwrap();
    expect_message(&mut friend, "invite_invalid", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: roulette_transport::ErrorCode::InviteInvalid,
                ..
            }
        )
    })
    .await;
    // The inviter's host agent comes back with its token; the link works again.
    let mut inviter = Connection::connect(&server.url, Endpoint::Host, Some(&token), None)
        .await
        .unwrap();
    friend
        .send(&ClientMessage::RedeemInvite {
            code: roulette_transport::Text::new(code).unwrap(),
        })
        .await
        .unwrap();
    expect_message(&mut friend, "matched", |m| {
        matches!(m, ServerMessage::Matched { .. })
    })
    .await;
    expect_message(&mut inviter, "matched", |m| {
        matches!(m, ServerMessage::Matched { .. })
    })
    .await;
}
