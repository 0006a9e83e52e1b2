//! The room actor's timers on paused time: the plan's deadline, the check-in, the warning and
//! the end, at their exact instants, with no test sleeping.

use roulette_core::{MatchKey, ParticipantId, RoomId, RoomKind, SessionConfig};
use roulette_server::metrics::Metrics;
use roulette_server::room::{MemberInit, RoomInit, spawn_room};
use roulette_server::store::Store;
use roulette_server::wiring::{ConnRef, Endpoint, LobbyCmd, Outbound, RoomCmd};
use roulette_transport::{ClientMessage, ServerMessage};
use std::time::Duration;
use tokio::sync::mpsc;

struct Member {
    out: mpsc::Receiver<Outbound>,
    init: Option<MemberInit>,
}

fn member(id: u64, endpoint: Endpoint) -> Member {
    let (out_tx, out) = mpsc::channel(1024);
    let (notices, _) = mpsc::channel(32);
    Member {
        out,
        init: Some(MemberInit {
            participant: ParticipantId(id),
            key: MatchKey::new(format!("k{id}")),
            name: format!("p{id}"),
            conns: vec![ConnRef {
                conn_id: id,
                endpoint,
                out: out_tx,
                notices,
            }],
        }),
    }
}

/// The next control message of the given kind, skipping others.
async fn next_kind(m: &mut Member, kind: &str) -> ServerMessage {
    loop {
        match m.out.recv().await.expect("room alive") {
            Outbound::Text(t) => {
                let msg = ServerMessage::decode(&t).unwrap();
                if msg.kind() == kind {
                    return msg;
                }
            }
            _ => continue,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_room_keeps_time_on_its_own() {
    let start = tokio::time::Instant::now();
    let mut host = member(1, Endpoint::Host);
    let mut guest = member(2, Endpoint::Participant);
    let (lobby, mut lobby_rx) = mpsc::channel(16);
    let store = Store::start(rusqlite::Connection::open_in_memory().unwrap());
    let room = spawn_room(RoomInit {
        room: RoomId(1),
        kind: RoomKind::Pairing,
        host: Some(ParticipantId(1)),
        members: [host.init.take().unwrap(), guest.init.take().unwrap()],
        session: SessionConfig::default(),
        replay_bytes: 1024,
        flow: roulette_server::viewer::Flow {
            window: 512 * 1024,
            max_backlog: Duration::from_millis(150),
        },
        metrics: Metrics::default(),
        store,
        lobby,
    });
    let since = || start.elapsed();

    next_kind(&mut guest, "planning").await;
    next_kind(&mut guest, "building").await;
    assert_eq!(
        since(),
        Duration::from_secs(3 * 60),
        "planning closes at its deadline"
    );

    next_kind(&mut guest, "check_in").await;
    assert_eq!(
        since(),
        Duration::from_secs(18 * 60),
        "check-in 15 minutes into building"
    );
    for p in [1, 2] {
        room.send(RoomCmd::Message {
            participant: ParticipantId(p),
            conn_id: p,
            message: ClientMessage::CheckIn { keep_going: true },
        })
        .await
        .unwrap();
    }
    next_kind(&mut host, "check_in_passed").await;

    let warning = next_kind(&mut guest, "warning").await;
    assert_eq!(
        warning,
        ServerMessage::Warning {
            remaining_ms: 300_000
        }
    );
    assert_eq!(since(), Duration::from_secs(28 * 60));

    let ended = next_kind(&mut guest, "ended").await;
    assert_eq!(
        ended,
        ServerMessage::Ended {
            reason: roulette_core::EndReason::Timer {}
        }
    );
    assert_eq!(
        since(),
        Duration::from_secs(33 * 60),
        "30 minutes of building"
    );
    match lobby_rx.recv().await {
        Some(LobbyCmd::RoomClosed(closed)) => {
            assert_eq!(closed.reason, roulette_core::EndReason::Timer {})
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_host_agent_that_stays_away_ends_the_session() {
    let start = tokio::time::Instant::now();
    let host = member(1, Endpoint::Host);
    let mut guest = member(2, Endpoint::Participant);
    let (lobby, _lobby_rx) = mpsc::channel(16);
    let mut host = host;
    let room = spawn_room(RoomInit {
        room: RoomId(1),
        kind: RoomKind::Pairing,
        host: Some(ParticipantId(1)),
        members: [host.init.take().unwrap(), guest.init.take().unwrap()],
        session: SessionConfig {
            planning_duration: Duration::ZERO,
            ..SessionConfig::default()
        },
        replay_bytes: 1024,
        flow: roulette_server::viewer::Flow {
            window: 512 * 1024,
            max_backlog: Duration::from_millis(150),
        },
        metrics: Metrics::default(),
        store: Store::start(rusqlite::Connection::open_in_memory().unwrap()),
        lobby,
    });
    next_kind(&mut guest, "building").await;
    room.send(RoomCmd::Detach {
        participant: ParticipantId(1),
        conn_id: 1,
    })
    .await
    .unwrap();
    assert!(matches!(
        next_kind(&mut guest, "agent_away").await,
        ServerMessage::AgentAway { grace_ms: 120_000 }
    ));
    let ended = next_kind(&mut guest, "ended").await;
    assert_eq!(
        ended,
        ServerMessage::Ended {
            reason: roulette_core::EndReason::HostGone {}
        }
    );
    assert_eq!(start.elapsed(), Duration::from_secs(120));
}
