//! The chat roulette's server side, proved with a raw WebSocket client: handles, the proof of
//! work, every limit (rate, size, sockets and joins per address, skips, heartbeats, bans, the
//! global cap), the proxy-hop rule, reports, and that nothing but counters is stored.

mod common;
use common::raw::{self, Event, RawWs};
use common::*;
use roulette_core::RoomKind;
use roulette_server::ServerConfig;
use roulette_transport::{ClientMessage, CloseCode, ErrorCode, ServerMessage, Text};
use std::time::Duration;

fn chat_config() -> ServerConfig {
    let mut c = test_config();
    // Cheap proofs keep the tests quick; the rule is the same at 16 bits.
    c.chat.pow_bits = 8;
    c
}

fn t<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).unwrap()
}

/// A chat socket that said hello: its handle and challenge.
struct Chatter {
    ws: RawWs,
    name: String,
    prefix: String,
    bits: u8,
}

async fn open(server: &TestServer, headers: &[(&str, &str)]) -> Result<Chatter, (u16, String)> {
    let mut ws = raw::connect(server.addr, "/chat", headers).await?;
    ws.text(r#"{"type":"hello","versions":[1]}"#).await;
    let ServerMessage::Welcome { name, .. } = ws.message().await else {
        panic!("no welcome")
    };
    let ServerMessage::Challenge { prefix, bits, .. } = ws.message().await else {
        panic!("no challenge")
    };
    Ok(Chatter {
        ws,
        name: name.as_str().to_string(),
        prefix: prefix.as_str().to_string(),
        bits,
    })
}

impl Chatter {
    async fn solve(&mut self) {
        let nonce = roulette_transport::pow::solve(&self.prefix, self.bits, 1 << 24).unwrap();
        self.ws
            .send(&ClientMessage::Solve { nonce: t(&nonce) })
            .await;
        self.ws
            .until(|m| matches!(m, ServerMessage::Solved {}))
            .await;
    }

    async fn find(&mut self, key: Option<&str>) {
        self.ws
            .send(&ClientMessage::FindPartner {
                kind: RoomKind::Chat,
                key: key.map(t),
            })
            .await;
    }

    /// Solves, queues, and waits until matched; returns the partner's handle.
    async fn matched(&mut self) -> String {
        match self
            .ws
            .until(|m| matches!(m, ServerMessage::Matched { .. }))
            .await
        {
            ServerMessage::Matched { partner_name, .. } => partner_name.as_str().to_string(),
            _ => unreachable!(),
        }
    }

    async fn say(&mut self, text: &str) {
        self.ws.send(&ClientMessage::Chat { text: t(text) }).await;
    }

    async fn error(&mut self) -> ErrorCode {
        match self
            .ws
            .until(|m| matches!(m, ServerMessage::Error { .. }))
            .await
        {
            ServerMessage::Error { code, .. } => code,
            _ => unreachable!(),
        }
    }

    async fn heard(&mut self, text: &str) {
        self.ws
            .until(|m| matches!(m, ServerMessage::Chat { text: got, .. } if got.as_str() == text))
            .await;
    }
}

async fn pair(server: &TestServer) -> (Chatter, Chatter) {
    let mut a = open(server, &[]).await.unwrap();
    let mut b = open(server, &[]).await.unwrap();
    a.solve().await;
    b.solve().await;
    a.find(None).await;
    b.find(None).await;
    let (pa, pb) = (a.matched().await, b.matched().await);
    assert_eq!(
        (pa.as_str(), pb.as_str()),
        (b.name.as_str(), a.name.as_str())
    );
    (a, b)
}

fn is_handle(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
}

/// The connections gauge, read from `/metrics`.
async fn open_connections(server: &TestServer) -> i64 {
    let (_, text) = get(server.addr, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix("roulette_connections "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

/// Waits until the server counts at most `n` open connections (a close it has finished).
async fn until_open_at_most(server: &TestServer, n: i64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while open_connections(server).await > n {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("connections to close");
}

#[tokio::test]
async fn strangers_get_handles_chat_and_only_counters_are_stored() {
    let server = TestServer::with_config(chat_config()).await;
    let (mut a, mut b) = pair(&server).await;
    assert!(
        is_handle(&a.name) && is_handle(&b.name),
        "{} {}",
        a.name,
        b.name
    );
    a.say("hello from a \u{1b}[31mred\u{202e} stranger").await;
    // What arrives was sanitised: no escape, no bidi override.
    let got =
        b.ws.until(|m| matches!(m, ServerMessage::Chat { .. }))
            .await;
    let ServerMessage::Chat { text, .. } = got else {
        unreachable!()
    };
    assert_eq!(text.as_str(), "hello from a red stranger");
    b.say("the secret words").await;
    a.heard("the secret words").await;
    a.ws.send(&ClientMessage::Insights {}).await;
    let insights =
        a.ws.until(|m| matches!(m, ServerMessage::Insights { .. }))
            .await;
    let ServerMessage::Insights {
        online,
        rooms,
        conversations_total,
        messages_total,
        ..
    } = insights
    else {
        unreachable!()
    };
    assert!(online >= 2 && rooms >= 1, "{insights:?}");
    assert_eq!(conversations_total, 1);
    assert_eq!(messages_total, 2);
    // The database holds counters, never a message, a handle or an address.
    drop((a, b));
    let dir = server.stop().await;
    let db = std::fs::read(roulette_server::store::db_path(dir.path())).unwrap();
    let db = String::from_utf8_lossy(&db);
    for secret in ["the secret words", "stranger", "127.0.0.1"] {
        assert!(!db.contains(secret), "{secret} was stored");
    }
}

#[tokio::test]
async fn queueing_needs_a_solved_proof_of_work_within_its_deadline() {
    let mut config = chat_config();
    config.chat.pow_deadline = Duration::from_millis(300);
    let server = TestServer::with_config(config).await;
    let mut c = open(&server, &[]).await.unwrap();
    assert_eq!(c.bits, 8);
    c.find(None).await;
    assert_eq!(c.error().await, ErrorCode::ProofRequired);
    let wrong = (0..100_000u32)
        .map(|n| n.to_string())
        .find(|n| !roulette_transport::pow::verify(&c.prefix, n, c.bits))
        .unwrap();
    c.ws.send(&ClientMessage::Solve { nonce: t(&wrong) }).await;
    assert_eq!(c.error().await, ErrorCode::ProofInvalid);
    // Never solved: closed at the deadline.
    assert_eq!(c.ws.closed().await, CloseCode::ProofTimeout.code());
    // Solved in time: it queues.
    let mut d = open(&server, &[]).await.unwrap();
    d.solve().await;
    d.find(None).await;
    d.ws.until(|m| matches!(m, ServerMessage::Queued { .. }))
        .await;
}

#[tokio::test]
async fn the_default_challenge_asks_for_sixteen_bits() {
    let server = TestServer::start().await;
    let mut c = open(&server, &[]).await.unwrap();
    assert_eq!(c.bits, 16);
    c.solve().await;
}

#[tokio::test]
async fn one_message_a_second_of_500_characters_in_frames_of_16_kb() {
    let server = TestServer::with_config(chat_config()).await;
    let (mut a, mut b) = pair(&server).await;
    a.say("one").await;
    a.say("two").await;
    assert_eq!(a.error().await, ErrorCode::RateLimited);
    b.heard("one").await;
    let mut long = open(&server, &[]).await.unwrap();
    long.say(&"x".repeat(501)).await;
    assert_eq!(long.error().await, ErrorCode::TextTooLong);
    // A frame over 16 KB closes the socket with 1009.
    let big = format!(r#"{{"type":"chat","text":"{}"}}"#, "y".repeat(17 * 1024));
    long.ws.text(&big).await;
    assert_eq!(long.ws.closed().await, CloseCode::MessageTooBig.code());
    // The pair's room is unharmed.
    b.say("still here").await;
    a.heard("still here").await;
}

#[tokio::test]
async fn skips_come_half_a_second_apart() {
    let server = TestServer::with_config(chat_config()).await;
    let (mut a, _b) = pair(&server).await;
    a.ws.send(&ClientMessage::Skip {}).await;
    a.ws.send(&ClientMessage::Skip {}).await;
    assert_eq!(a.error().await, ErrorCode::RateLimited);
}

#[tokio::test]
async fn three_sockets_per_address_and_a_global_cap() {
    let server = TestServer::with_config(chat_config()).await;
    let mut open_ones = Vec::new();
    for _ in 0..3 {
        open_ones.push(open(&server, &[]).await.unwrap());
    }
    let (status, body) = open(&server, &[]).await.err().unwrap();
    assert_eq!(status, 429, "{body}");
    // One closes; another may open.
    drop(open_ones.pop());
    until_open_at_most(&server, 2).await;
    open_ones.push(open(&server, &[]).await.unwrap());

    let mut config = chat_config();
    config.limits.max_connections = 2;
    let capped = TestServer::with_config(config).await;
    let _one = open(&capped, &[]).await.unwrap();
    let _two = open(&capped, &[]).await.unwrap();
    let (status, _) = raw::connect(capped.addr, "/chat", &[]).await.err().unwrap();
    assert_eq!(status, 503);
}

#[tokio::test]
async fn five_queue_joins_a_minute_per_address() {
    let server = TestServer::with_config(chat_config()).await;
    let mut c = open(&server, &[]).await.unwrap();
    c.solve().await;
    for _ in 0..5 {
        c.find(None).await;
        c.ws.until(|m| matches!(m, ServerMessage::Queued { .. }))
            .await;
        c.ws.send(&ClientMessage::CancelSearch {}).await;
    }
    c.find(None).await;
    assert_eq!(c.error().await, ErrorCode::RateLimited);
    // Another socket of the same address shares the allowance.
    let mut d = open(&server, &[]).await.unwrap();
    d.solve().await;
    d.find(None).await;
    assert_eq!(d.error().await, ErrorCode::RateLimited);
}

#[tokio::test]
async fn a_socket_that_misses_two_heartbeats_is_ejected() {
    let mut config = chat_config();
    config.chat.heartbeat = Duration::from_millis(100);
    let server = TestServer::with_config(config).await;
    // This one answers every ping: after six pings it is still open.
    let mut alive = open(&server, &[]).await.unwrap();
    let mut pings = 0;
    while pings < 6 {
        match alive.ws.next().await {
            Event::Ping(p) => {
                pings += 1;
                alive.ws.frame(0xA, &p).await;
            }
            Event::Text(_) | Event::Pong(_) => {}
            other => panic!("the answering socket got {other:?}"),
        }
    }
    // This one never answers: closed after missing about two.
    let mut silent = open(&server, &[]).await.unwrap();
    let mut unanswered = 0;
    let code = loop {
        match silent.ws.next().await {
            Event::Ping(_) => unanswered += 1,
            Event::Close(code) => break code,
            Event::Eof => break 1006,
            _ => {}
        }
    };
    assert_eq!(code, CloseCode::HeartbeatMissed.code());
    assert!(
        (2..=3).contains(&unanswered),
        "{unanswered} pings went unanswered"
    );
}

#[tokio::test]
async fn repeated_violations_ban_the_address_for_a_while() {
    let mut config = chat_config();
    config.chat.violations_before_ban = 3;
    config.trusted_proxy_hops = 1;
    let server = TestServer::with_config(config).await;
    let bad = [("X-Forwarded-For", "203.0.113.5")];
    let mut other = open(&server, &bad).await.unwrap();
    let mut c = open(&server, &bad).await.unwrap();
    for _ in 0..3 {
        c.ws.frame(0x2, b"binary is not allowed here").await;
    }
    assert_eq!(c.ws.closed().await, CloseCode::Banned.code());
    // Every socket of the address goes, and no new one opens.
    assert_eq!(other.ws.closed().await, CloseCode::Banned.code());
    let (status, body) = open(&server, &bad).await.err().unwrap();
    assert_eq!(status, 403);
    assert!(body.contains("banned"), "{body}");
    assert!(body.contains("15 min"), "{body}");
    // Another address is not affected.
    open(&server, &[("X-Forwarded-For", "198.51.100.1")])
        .await
        .unwrap();
}

#[tokio::test]
async fn forwarded_for_counts_only_through_the_trusted_hops() {
    let mut config = chat_config();
    config.chat.sockets_per_address = 1;
    config.trusted_proxy_hops = 1;
    let server = TestServer::with_config(config).await;
    // The trusted proxy appended 192.0.2.7; what the client wrote before it is not believed.
    let _first = open(&server, &[("X-Forwarded-For", "1.1.1.1, 192.0.2.7")])
        .await
        .unwrap();
    let (status, _) = open(&server, &[("X-Forwarded-For", "2.2.2.2, 192.0.2.7")])
        .await
        .err()
        .unwrap();
    assert_eq!(status, 429, "a spoofed left entry made a new address");
    let _other = open(&server, &[("X-Forwarded-For", "192.0.2.8")])
        .await
        .unwrap();

    // With no trusted hops the header is ignored: every socket here is 127.0.0.1.
    let mut config = chat_config();
    config.chat.sockets_per_address = 1;
    let direct = TestServer::with_config(config).await;
    let _first = open(&direct, &[("X-Forwarded-For", "1.1.1.1")])
        .await
        .unwrap();
    let (status, _) = open(&direct, &[("X-Forwarded-For", "2.2.2.2")])
        .await
        .err()
        .unwrap();
    assert_eq!(status, 429);
}

#[tokio::test]
async fn a_report_keeps_the_pair_apart_and_bans_no_one() {
    let server = TestServer::with_config(chat_config()).await;
    let (mut a, mut b) = pair(&server).await;
    a.ws.send(&ClientMessage::Report { reason: t("rude") })
        .await;
    a.ws.until(|m| matches!(m, ServerMessage::Ended { .. }))
        .await;
    b.ws.until(|m| matches!(m, ServerMessage::Ended { .. }))
        .await;
    // Both look again: they are not paired with each other.
    a.find(None).await;
    a.ws.until(|m| matches!(m, ServerMessage::Queued { .. }))
        .await;
    b.find(None).await;
    b.ws.until(|m| matches!(m, ServerMessage::Queued { .. }))
        .await;
    // A third person is paired with one of them, not blocked by the pair.
    let mut c = open(&server, &[]).await.unwrap();
    c.solve().await;
    c.find(None).await;
    let partner = c.matched().await;
    assert!(partner == a.name || partner == b.name);
    // Nobody was banned: the address still opens sockets (the reporter's and the reported).
    drop(c);
    let reports = server.shared.store.reports().await.unwrap();
    assert_eq!(reports.len(), 1);
}

#[tokio::test]
async fn one_queue_slot_per_match_key_and_the_raw_key_is_never_kept() {
    let server = TestServer::with_config(chat_config()).await;
    let mut a = open(&server, &[]).await.unwrap();
    let mut b = open(&server, &[]).await.unwrap();
    a.solve().await;
    b.solve().await;
    a.find(Some("the-same-session-hash")).await;
    a.ws.until(|m| matches!(m, ServerMessage::Queued { .. }))
        .await;
    b.find(Some("the-same-session-hash")).await;
    assert_eq!(b.error().await, ErrorCode::AlreadyWaiting);
    // A different key pairs.
    b.find(Some("another-session-hash")).await;
    b.matched().await;
    a.matched().await;
    drop((a, b));
    let dir = server.stop().await;
    let db = std::fs::read(roulette_server::store::db_path(dir.path())).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("session-hash"));
}

#[tokio::test]
async fn pairing_rooms_and_chat_rooms_keep_to_their_endpoints() {
    let server = TestServer::with_config(chat_config()).await;
    let mut c = open(&server, &[]).await.unwrap();
    c.solve().await;
    c.ws.send(&ClientMessage::FindPartner {
        kind: RoomKind::Pairing,
        key: None,
    })
    .await;
    assert_eq!(c.error().await, ErrorCode::Forbidden);
    c.ws.send(&ClientMessage::CreateInvite {}).await;
    assert_eq!(c.error().await, ErrorCode::Forbidden);
    // A browser's socket cannot queue for a chat room without the proof of work.
    let mut guest = server.guest().await;
    guest
        .send(&ClientMessage::FindPartner {
            kind: RoomKind::Chat,
            key: None,
        })
        .await
        .unwrap();
    expect_message(&mut guest, "forbidden", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::Forbidden,
                ..
            }
        )
    })
    .await;
}

#[tokio::test]
async fn an_idle_chat_room_closes() {
    let mut config = chat_config();
    config.session.chat_idle_timeout = Duration::from_millis(200);
    let server = TestServer::with_config(config).await;
    let (mut a, mut b) = pair(&server).await;
    for c in [&mut a, &mut b] {
        let ended =
            c.ws.until(|m| matches!(m, ServerMessage::Ended { .. }))
                .await;
        assert!(format!("{ended:?}").contains("Idle"), "{ended:?}");
    }
}
