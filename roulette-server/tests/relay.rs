//! The relay between a host agent and viewers: output fan-out, write permission on every frame,
//! resuming after dropped connections, snapshots, and slow viewers.

mod common;
use bytes::Bytes;
use common::*;
use roulette_core::RoomKind;
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, ErrorCode, Frame, ServerMessage};
use std::time::Duration;

fn out(offset: u64, data: &[u8]) -> Frame {
    Frame::Output {
        offset,
        data: Bytes::copy_from_slice(data),
    }
}

/// A fence: `sender` sends a chat message and `receiver` reads until it arrives. The room
/// handles one connection's messages in order, so whatever `sender` sent before the fence has
/// been handled by then. Returns what `receiver` saw on the way.
async fn fence(sender: &mut Connection, receiver: &mut Connection, name: &str) -> Vec<Incoming> {
    sender
        .send(&ClientMessage::Chat {
            text: roulette_transport::Text::new(name).unwrap(),
        })
        .await
        .unwrap();
    expect(receiver, name, |i| {
        matches!(i, Incoming::Message(ServerMessage::Chat { text, .. }) if text.as_str() == name)
    })
    .await
}

fn input_bytes(seen: &[Incoming]) -> Vec<u8> {
    seen.iter()
        .filter_map(|i| match i {
            Incoming::Frame(Frame::Input { data, .. }) => Some(data.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test]
async fn output_reaches_the_partner_and_only_the_driver_writes() {
    let server = TestServer::start().await;
    let (mut host, mut guest) = paired(&server).await;
    host.send_frame(&out(0, b"$ ")).await.unwrap();
    assert_eq!(read_output(&mut guest, 0, 2).await, b"$ ");

    // The guest navigates: input, prompts and resizes are refused and reach nobody.
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"rm -rf ~\r"),
        })
        .await
        .unwrap();
    expect_message(&mut guest, "not_driver", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            }
        )
    })
    .await;
    guest
        .send(&ClientMessage::Resize { cols: 10, rows: 5 })
        .await
        .unwrap();
    expect_message(&mut guest, "not_driver", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            }
        )
    })
    .await;
    guest
        .send(&ClientMessage::SubmitPrompt {
            text: roulette_transport::Text::new("delete it all").unwrap(),
            acknowledge_warnings: true,
        })
        .await
        .unwrap();
    expect_message(&mut guest, "not_driver", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            }
        )
    })
    .await;
    let seen = fence(&mut guest, &mut host, "fence-1").await;
    assert_eq!(
        input_bytes(&seen),
        b"",
        "the agent received navigator input: {seen:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|i| matches!(i, Incoming::Message(ServerMessage::Resize { .. })))
    );

    // The host drives: its input reaches its agent, attributed and in order.
    host.send_frame(&Frame::Input {
        offset: 0,
        data: Bytes::from_static(b"ls\r"),
    })
    .await
    .unwrap();
    let seen = fence(&mut guest, &mut host, "fence-2").await;
    assert_eq!(input_bytes(&seen), b"ls\r");

    // After a swap the rights move at once.
    guest.send(&ClientMessage::RequestSwap {}).await.unwrap();
    expect_message(&mut host, "swap request", |m| {
        matches!(m, ServerMessage::SwapRequested { .. })
    })
    .await;
    host.send(&ClientMessage::AnswerSwap { accept: true })
        .await
        .unwrap();
    expect_message(&mut guest, "driver changed", |m| {
        matches!(m, ServerMessage::DriverChanged { .. })
    })
    .await;
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"pwd\r"),
        })
        .await
        .unwrap();
    host.send_frame(&Frame::Input {
        offset: 0,
        data: Bytes::from_static(b"whoami\r"),
    })
    .await
    .unwrap();
    let mut seen = expect(&mut host, "not_driver", |i| {
        matches!(
            i,
            Incoming::Message(ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            })
        )
    })
    .await;
    seen.extend(fence(&mut guest, &mut host, "fence-3").await);
    assert_eq!(input_bytes(&seen), b"pwd\r");
}

#[tokio::test]
async fn after_the_host_reconnects_every_byte_arrives_exactly_once() {
    let server = TestServer::start().await;
    let token = server.host_token();
    let mut host = Connection::connect(&server.url, Endpoint::Host, Some(&token), None)
        .await
        .unwrap();
    let mut guest = server.guest().await;
    host.send(&ClientMessage::FindPartner {
        kind: RoomKind::Pairing,
        key: None,
    })
    .await
    .unwrap();
    guest
        .send(&ClientMessage::FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        })
        .await
        .unwrap();
    expect_message(&mut guest, "building", |m| {
        matches!(m, ServerMessage::Building { .. })
    })
    .await;
    let stream: Vec<u8> = (0..5000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    // The first half arrives; the host's link drops without it learning how much got through.
    let half = stream.len() / 2;
    host.send_frame(&out(0, &stream[..half])).await.unwrap();
    assert_eq!(
        read_output(&mut guest, 0, half as u64).await,
        &stream[..half]
    );
    drop(host);
    // It comes back and is told where to resume; it resends generously from earlier on.
    let mut host = Connection::connect(&server.url, Endpoint::Host, Some(&token), None)
        .await
        .unwrap();
    let ack = expect_message(&mut host, "ack", |m| matches!(m, ServerMessage::Ack { .. })).await;
    assert_eq!(
        ack,
        ServerMessage::Ack {
            offset: half as u64
        }
    );
    let from = half - 1000;
    host.send_frame(&out(from as u64, &stream[from..]))
        .await
        .unwrap();
    let rest = read_output(&mut guest, half as u64, (stream.len() - half) as u64).await;
    assert_eq!(rest, &stream[half..]);
    // A frame past the end is refused with an ack that says where the stream is.
    host.send_frame(&out(stream.len() as u64 + 10, b"gap"))
        .await
        .unwrap();
    let ack = expect_message(&mut host, "ack", |m| matches!(m, ServerMessage::Ack { .. })).await;
    assert_eq!(
        ack,
        ServerMessage::Ack {
            offset: stream.len() as u64
        }
    );
    let (_, metrics) = get(server.addr, "/metrics").await;
    assert!(metrics.contains("roulette_reconnects_total 1"), "{metrics}");
}

#[tokio::test]
async fn a_viewer_resumes_from_its_own_offset() {
    let server = TestServer::start().await;
    let (mut host, guest) = paired(&server).await;
    let token = guest.identity().1.unwrap();
    host.send_frame(&out(0, b"0123456789")).await.unwrap();
    let mut guest = guest;
    assert_eq!(read_output(&mut guest, 0, 10).await, b"0123456789");
    drop(guest);
    host.send_frame(&out(10, b"abcdef")).await.unwrap();
    // Wait until the server has the new bytes (the fence round-trips through the room).
    self_fence(&mut host, "fence").await;
    let mut guest = Connection::connect(&server.url, Endpoint::Participant, Some(&token), Some(7))
        .await
        .unwrap();
    expect_message(&mut guest, "matched again", |m| {
        matches!(m, ServerMessage::Matched { .. })
    })
    .await;
    assert_eq!(read_output(&mut guest, 7, 9).await, b"789abcdef");
}

#[tokio::test]
async fn a_late_joiner_gets_the_current_screen_then_live_bytes() {
    let server = TestServer::start().await;
    let (mut host, guest) = paired(&server).await;
    let token = guest.identity().1.unwrap();
    drop(guest);
    let screen = b"$ make\r\nbuilding...\r\n\x1b[1mdone\x1b[0m\r\n$ ";
    host.send_frame(&out(0, screen)).await.unwrap();
    self_fence(&mut host, "fence").await;
    // A connection with no offset at all: a new tab, or a participant who just arrived.
    let mut late = Connection::connect(&server.url, Endpoint::Participant, Some(&token), None)
        .await
        .unwrap();
    let seen = expect(&mut late, "a snapshot", |i| {
        matches!(i, Incoming::Frame(Frame::Snapshot { .. }))
    })
    .await;
    let Some(Incoming::Frame(Frame::Snapshot { offset, data })) = seen.last() else {
        unreachable!()
    };
    assert_eq!(*offset, screen.len() as u64);
    let text = String::from_utf8_lossy(data);
    assert!(text.contains("building..."), "{text:?}");
    assert!(text.contains("done"), "{text:?}");
    host.send_frame(&out(screen.len() as u64, b"ls\r\n"))
        .await
        .unwrap();
    assert_eq!(
        read_output(&mut late, screen.len() as u64, 4).await,
        b"ls\r\n"
    );
}

#[tokio::test]
async fn a_viewer_too_far_behind_gets_the_screen_instead_of_the_history() {
    let mut config = test_config();
    config.limits.replay_bytes = 1024;
    let server = TestServer::with_config(config).await;
    let (mut host, guest) = paired(&server).await;
    let token = guest.identity().1.unwrap();
    drop(guest);
    let mut offset = 0;
    for i in 0..200 {
        let line = format!("history line {i}\r\n");
        host.send_frame(&out(offset, line.as_bytes()))
            .await
            .unwrap();
        offset += line.len() as u64;
    }
    host.send_frame(&out(offset, b"\x1b[2J\x1b[Hthe current screen"))
        .await
        .unwrap();
    offset += b"\x1b[2J\x1b[Hthe current screen".len() as u64;
    self_fence(&mut host, "fence").await;
    let mut guest = Connection::connect(&server.url, Endpoint::Participant, Some(&token), Some(0))
        .await
        .unwrap();
    let seen = expect(&mut guest, "a snapshot", |i| {
        matches!(i, Incoming::Frame(Frame::Snapshot { .. }))
    })
    .await;
    let Some(Incoming::Frame(Frame::Snapshot { offset: at, data })) = seen.last() else {
        unreachable!()
    };
    assert_eq!(
        *at, offset,
        "the snapshot shows the screen at the end of the stream"
    );
    let text = String::from_utf8_lossy(data);
    assert!(text.contains("the current screen"), "{text:?}");
    assert!(
        !text.contains("history line 3\r"),
        "history came along: {text:?}"
    );
    assert!(
        !seen
            .iter()
            .any(|i| matches!(i, Incoming::Frame(Frame::Output { .. })))
    );
    // Live output continues from the snapshot's offset.
    host.send_frame(&out(offset, b"!")).await.unwrap();
    assert_eq!(read_output(&mut guest, offset, 1).await, b"!");
}

#[tokio::test]
async fn a_stalled_viewer_holds_back_neither_the_host_nor_another_viewer() {
    // The fast viewer must get every byte: it may not be skipped ahead for a long backlog (the
    // raw host here pushes faster than any reader), and the ring is roomy for it; the stalled
    // viewer's bytes leave the ring long before it wakes up.
    let mut config = test_config();
    config.limits.max_backlog = Duration::from_secs(3600);
    config.limits.replay_bytes = 32 * 1024 * 1024;
    let server = TestServer::with_config(config).await;
    let token = server.host_token();
    let (mut host, stalled) = paired(&server).await;
    // The host also watches from a participant connection that reads everything.
    let mut fast = Connection::connect(&server.url, Endpoint::Participant, Some(&token), None)
        .await
        .unwrap();
    expect_message(&mut fast, "matched", |m| {
        matches!(m, ServerMessage::Matched { .. })
    })
    .await;
    let chunk = vec![b'x'; 60 * 1024];
    let total: u64 = chunk.len() as u64 * 700;
    let reader = tokio::spawn(async move {
        let got = read_output(&mut fast, 0, total).await;
        got.len() as u64
    });
    let mut offset = 0;
    while offset < total {
        host.send_frame(&out(offset, &chunk)).await.unwrap();
        offset += chunk.len() as u64;
    }
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(60), reader)
            .await
            .unwrap()
            .unwrap(),
        total
    );
    // The stalled viewer never read a byte; when it wakes up it is resynced with a snapshot.
    let mut stalled = stalled;
    let seen = expect(&mut stalled, "a snapshot", |i| {
        matches!(i, Incoming::Frame(Frame::Snapshot { .. }))
    })
    .await;
    let queued: usize = seen
        .iter()
        .filter_map(|i| match i {
            Incoming::Frame(Frame::Output { data, .. }) => Some(data.len()),
            _ => None,
        })
        .sum();
    // What it got before skipping ahead is bounded by its queue and the socket's buffers, far
    // below the 42 MB the host sent.
    assert!(
        queued < 24 * 1024 * 1024,
        "{queued} bytes were queued for a stalled viewer"
    );
    let (_, metrics) = get(server.addr, "/metrics").await;
    assert!(
        !metrics.contains("roulette_snapshots_total 0\n"),
        "{metrics}"
    );
}
