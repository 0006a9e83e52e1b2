//! The client crate against a real server on a loopback port: a host agent running a shell and
//! a participant pair, talk and type; the chat endpoint's proof of work is solved for the
//! caller; errors carry their codes.

use base64::Engine;
use roulette_client::{ConnectOptions, Event, Host, HostConfig, Kind, Local, Participant};
use std::time::Duration;

struct Server {
    url: String,
    data: tempfile::TempDir,
    _stop: tokio_util::sync::DropGuard,
}

async fn server() -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut config = roulette_server::ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        ..roulette_server::ServerConfig::default()
    };
    config.session.planning_duration = Duration::ZERO;
    config.chat.pow_bits = 8;
    let server = roulette_server::Server::bind(config).await.unwrap();
    let url = format!("http://{}", server.local_addr());
    let stop = server.shutdown_token();
    tokio::spawn(server.run());
    Server {
        url,
        data,
        _stop: stop.drop_guard(),
    }
}

async fn until(
    events: impl AsyncFn() -> Option<Event>,
    what: &str,
    mut pred: impl FnMut(&Event) -> bool,
) -> Event {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events().await {
                Some(e) if pred(&e) => return e,
                Some(_) => {}
                None => panic!("events ended before {what}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_and_a_participant_pair_talk_and_type() {
    let server = server().await;
    let token =
        roulette_server::mint_host_token(server.data.path(), Duration::from_secs(3600)).unwrap();
    let host = Host::start(HostConfig {
        server: server.url.clone(),
        token,
        command: vec!["sh".into()],
        invite: false,
        once: true,
        show_output: false,
        allow_unsafe_flags: false,
    })
    .unwrap();
    until(
        || host.next_event(),
        "waiting",
        |e| matches!(e, Event::Local(Local::Host { status, .. }) if status == "waiting"),
    )
    .await;
    let me = Participant::connect(ConnectOptions {
        server: server.url.clone(),
        token: None,
        kind: Kind::Participant,
    })
    .await
    .unwrap();
    assert!(me.identity().token.is_some());
    me.send_json(r#"{"type":"find_partner","kind":"pairing"}"#)
        .await
        .unwrap();
    let building = until(|| me.next_event(), "building", |e| e.kind() == "building").await;
    assert!(
        building.to_json().starts_with(r#"{"type":"building""#),
        "{}",
        building.to_json()
    );
    me.chat("hello host").await.unwrap();
    // The host agent reports chat as a notice with the sender's handle.
    until(|| host.next_event(), "the chat", |e| {
        matches!(e, Event::Local(Local::Host { status, detail }) if status == "notice" && detail.ends_with("hello host"))
    })
    .await;
    // The host drives: its keys reach the shell, whose output reaches the participant.
    host.keys(bytes::Bytes::from_static(b"echo typed-by-$((40 + 2))\r"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    until(
        || me.next_event(),
        "the output",
        |e| {
            if let Event::Local(Local::Output { data, .. } | Local::Snapshot { data, .. }) = e {
                seen.extend(
                    base64::engine::general_purpose::STANDARD
                        .decode(data)
                        .unwrap(),
                );
            }
            // The sum is in the output only, never in what was typed.
            String::from_utf8_lossy(&seen).contains("typed-by-42")
        },
    )
    .await;
    // The navigator's input is refused with an error event, never typed.
    me.input(bytes::Bytes::from_static(b"echo nope\r"))
        .await
        .unwrap();
    until(
        || me.next_event(),
        "not_driver",
        |e| e.to_json().contains("not_driver"),
    )
    .await;
    me.close();
    until(|| me.next_event(), "closed", |e| e.kind() == "closed").await;
}

#[tokio::test]
async fn the_chat_endpoint_is_solved_for_the_caller() {
    let server = server().await;
    let connect = || {
        Participant::connect(ConnectOptions {
            server: server.url.clone(),
            token: None,
            kind: Kind::Chat,
        })
    };
    let (a, b) = (connect().await.unwrap(), connect().await.unwrap());
    for p in [&a, &b] {
        until(|| p.next_event(), "solved", |e| e.kind() == "solved").await;
        p.send_json(r#"{"type":"find_partner","kind":"chat"}"#)
            .await
            .unwrap();
    }
    until(|| a.next_event(), "matched", |e| e.kind() == "matched").await;
    until(|| b.next_event(), "matched", |e| e.kind() == "matched").await;
    a.chat("psst").await.unwrap();
    until(|| b.next_event(), "chat", |e| e.to_json().contains("psst")).await;
}

#[tokio::test]
async fn errors_carry_stable_codes() {
    let server = server().await;
    let refused = Participant::connect(ConnectOptions {
        server: server.url.clone(),
        token: Some("forged.token.here".into()),
        kind: Kind::Participant,
    })
    .await
    .unwrap_err();
    assert_eq!(refused.code(), "unauthorized", "{refused}");
    let nowhere = Participant::connect(ConnectOptions {
        server: "http://127.0.0.1:1".into(),
        token: None,
        kind: Kind::Participant,
    })
    .await
    .unwrap_err();
    assert_eq!(nowhere.code(), "connect_failed");
    let me = Participant::connect(ConnectOptions {
        server: server.url.clone(),
        token: None,
        kind: Kind::Participant,
    })
    .await
    .unwrap();
    for bad in [
        r#"{"type":"become_admin"}"#,
        "not json",
        r#"{"type":"hello","versions":[1]}"#,
    ] {
        assert_eq!(
            me.send_json(bad).await.unwrap_err().code(),
            "bad_message",
            "{bad}"
        );
    }
    let host = Host::start(HostConfig {
        server: server.url.clone(),
        token: String::new(),
        command: vec![],
        invite: false,
        once: true,
        show_output: false,
        allow_unsafe_flags: false,
    });
    assert_eq!(host.unwrap_err().code(), "invalid_argument");
    // An agent that would act without asking is refused unless allowed explicitly.
    let unsafe_agent = |allow| {
        Host::start(HostConfig {
            server: server.url.clone(),
            token: "t".into(),
            command: vec!["claude".into(), "--dangerously-skip-permissions".into()],
            invite: false,
            once: true,
            show_output: false,
            allow_unsafe_flags: allow,
        })
    };
    let refused = unsafe_agent(false).unwrap_err();
    assert_eq!(refused.code(), "invalid_argument");
    assert!(
        refused
            .to_string()
            .contains("--dangerously-skip-permissions")
    );
    assert!(unsafe_agent(true).is_ok());
}
