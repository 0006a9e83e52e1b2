//! Strangers on the pairing endpoints: a room id is not a credential, invite codes cannot be
//! guessed quickly, and repeated violations ban an address on every endpoint.

mod common;
use bytes::Bytes;
use common::*;
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, CloseCode, ErrorCode, Frame, ServerMessage, Text};

#[tokio::test]
async fn a_stranger_who_knows_the_room_id_gets_nothing() {
    let server = TestServer::start().await;
    let (mut host, mut guest) = paired(&server).await;
    host.send_frame(&Frame::Output {
        offset: 0,
        data: Bytes::from_static(b"the host's secret screen\r\n"),
    })
    .await
    .unwrap();
    read_output(&mut guest, 0, 26).await;
    // The stranger knows the room id (ids are small numbers) but nothing in the protocol takes
    // one: every request is checked against the sender's own membership.
    let mut stranger = server.guest().await;
    assert_eq!(stranger.room(), None);
    let tries = [
        ClientMessage::Chat {
            text: Text::new("let me in").unwrap(),
        },
        ClientMessage::Ack { offset: 0 },
        ClientMessage::Resize { cols: 10, rows: 5 },
        ClientMessage::RequestSwap {},
        ClientMessage::Leave {},
    ];
    for message in tries {
        stranger.send(&message).await.unwrap();
        expect_message(&mut stranger, "not_member", |m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: ErrorCode::NotMember,
                    ..
                }
            )
        })
        .await;
    }
    stranger
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"rm -rf ~\r"),
        })
        .await
        .unwrap();
    let seen = expect_message(&mut stranger, "not_member", |m| {
        matches!(m, ServerMessage::Error { .. })
    })
    .await;
    assert!(matches!(
        seen,
        ServerMessage::Error {
            code: ErrorCode::NotMember,
            ..
        }
    ));
    // Reconnecting with an offset replays nothing either.
    let token = stranger.identity().1.unwrap();
    drop(stranger);
    let mut again = Connection::connect(&server.url, Endpoint::Participant, Some(&token), Some(0))
        .await
        .unwrap();
    again
        .send(&ClientMessage::Chat {
            text: Text::new("fence").unwrap(),
        })
        .await
        .unwrap();
    let seen = expect(&mut again, "the refusal", |i| {
        matches!(i, Incoming::Message(ServerMessage::Error { .. }))
    })
    .await;
    assert!(
        !seen.iter().any(|i| matches!(i, Incoming::Frame(_))),
        "{seen:?}"
    );
    // The real partner still gets the live stream; the host received no byte from strangers.
    host.send_frame(&Frame::Output {
        offset: 26,
        data: Bytes::from_static(b"more\r\n"),
    })
    .await
    .unwrap();
    assert_eq!(read_output(&mut guest, 26, 6).await, b"more\r\n");
    let seen = self_fence(&mut host, "host fence").await;
    assert!(
        !seen
            .iter()
            .any(|i| matches!(i, Incoming::Frame(Frame::Input { .. }))),
        "{seen:?}"
    );
}

#[tokio::test]
async fn guessing_invite_codes_is_slowed_per_address() {
    let server = TestServer::start().await;
    let mut guesser = server.guest().await;
    let refusal = |m: &ServerMessage| matches!(m, ServerMessage::Error { .. });
    let mut first = None;
    for i in 0..10 {
        guesser
            .send(&ClientMessage::RedeemInvite {
                code: Text::new(format!("guess{i:021}")).unwrap(),
            })
            .await
            .unwrap();
        let answer = expect_message(&mut guesser, "a refusal", refusal).await;
        let ServerMessage::Error { code, message } = &answer else {
            unreachable!()
        };
        assert_eq!(*code, ErrorCode::InviteInvalid);
        // Every failure answers the same.
        let first = first.get_or_insert_with(|| message.clone());
        assert_eq!(first, message);
    }
    guesser
        .send(&ClientMessage::RedeemInvite {
            code: Text::new("one-more-guess").unwrap(),
        })
        .await
        .unwrap();
    let answer = expect_message(&mut guesser, "rate limited", refusal).await;
    assert!(
        matches!(
            answer,
            ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            }
        ),
        "{answer:?}"
    );
    // A new connection from the same address shares the allowance.
    let mut other = server.guest().await;
    other
        .send(&ClientMessage::RedeemInvite {
            code: Text::new("another-guess").unwrap(),
        })
        .await
        .unwrap();
    let answer = expect_message(&mut other, "rate limited", refusal).await;
    assert!(matches!(
        answer,
        ServerMessage::Error {
            code: ErrorCode::RateLimited,
            ..
        }
    ));
}

#[tokio::test]
async fn repeated_violations_ban_the_address_on_every_endpoint() {
    let mut config = test_config();
    config.chat.violations_before_ban = 3;
    let server = TestServer::with_config(config).await;
    let mut bystander = server.host().await;
    let mut rude = server.guest().await;
    for _ in 0..3 {
        rude.send_raw_text("{not json".into()).await.unwrap();
    }
    // The third violation bans the address: every socket from it is closed with 4009.
    assert_eq!(closed_with(&mut rude).await, CloseCode::Banned.code());
    assert_eq!(closed_with(&mut bystander).await, CloseCode::Banned.code());
    // New connections are refused, whatever their credentials.
    let refused = Connection::connect(&server.url, Endpoint::Participant, None, None).await;
    assert_eq!(
        refused.unwrap_err().close_code(),
        Some(CloseCode::Banned),
        "a banned address said hello"
    );
    let (status, body) = common::raw::connect(server.addr, "/chat", &[])
        .await
        .err()
        .expect("refused");
    assert!(body.contains("banned"), "{body}");
    assert_eq!(status, 403);
    // The server itself is fine.
    assert_eq!(get(server.addr, "/healthz").await.0, 200);
}

/// The signing key, read from the data directory as an attacker with a copy of it would; the
/// tokens below differ from a valid one in one way each.
fn forge(server: &TestServer, alg: jsonwebtoken::Algorithm, exp_offset: i64) -> String {
    let conn = rusqlite::Connection::open(roulette_server::store::db_path(server.data_dir.path()))
        .unwrap();
    let key: Vec<u8> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'signing_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let claims = serde_json::json!({
        "sub": "guest:forged",
        "aud": "roulette:participant",
        "iat": now,
        "exp": now + exp_offset,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(alg),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&key),
    )
    .unwrap()
}

#[tokio::test]
async fn expired_tokens_other_algorithms_and_unsigned_tokens_are_refused() {
    use jsonwebtoken::Algorithm;
    let server = TestServer::start().await;
    let try_token = |token: String| {
        let url = server.url.clone();
        async move {
            Connection::connect(&url, Endpoint::Participant, Some(&token), None)
                .await
                .map(|_| ())
                .map_err(|e| e.close_code())
        }
    };
    // The control: the same claims, signed as the server signs, are accepted.
    assert_eq!(
        try_token(forge(&server, Algorithm::HS256, 3600)).await,
        Ok(())
    );
    // Expired an hour ago.
    assert_eq!(
        try_token(forge(&server, Algorithm::HS256, -3600)).await,
        Err(Some(CloseCode::Unauthorized))
    );
    // Another algorithm with the same key: the algorithm is pinned.
    assert_eq!(
        try_token(forge(&server, Algorithm::HS512, 3600)).await,
        Err(Some(CloseCode::Unauthorized))
    );
    // Unsigned (`alg: none`), with the signature cut off.
    let good = forge(&server, Algorithm::HS256, 3600);
    let claims = good.split('.').nth(1).unwrap();
    let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
    assert_eq!(
        try_token(unsigned).await,
        Err(Some(CloseCode::Unauthorized))
    );
}
