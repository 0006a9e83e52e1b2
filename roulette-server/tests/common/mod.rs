//! A real server on a loopback port for each test, shut down when dropped.
#![allow(dead_code)]

pub mod raw;

use roulette_server::{Server, ServerConfig};
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, Frame, ServerMessage};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

pub struct TestServer {
    pub addr: SocketAddr,
    pub url: String,
    pub shared: std::sync::Arc<roulette_server::Shared>,
    pub data_dir: tempfile::TempDir,
    host_token: String,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub fn test_config() -> ServerConfig {
    let mut config = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    config.session.planning_duration = Duration::ZERO;
    config.session.host_approves_remote_lines = false;
    // Every client of a test comes from 127.0.0.1, and tests of bad frames break rules on
    // purpose: the address ban has tests of its own, which set their own threshold.
    config.chat.violations_before_ban = 1_000;
    config
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with_config(test_config()).await
    }

    pub async fn with_config(config: ServerConfig) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        Self::in_dir(config, data_dir).await
    }

    pub async fn in_dir(mut config: ServerConfig, data_dir: tempfile::TempDir) -> TestServer {
        config.data_dir = data_dir.path().to_path_buf();
        let server = Server::bind(config).await.unwrap();
        let addr = server.local_addr();
        let stop = server.shutdown_token();
        let shared = server.shared();
        let task = tokio::spawn(async move {
            server.run().await.unwrap();
        });
        let host_token =
            roulette_server::mint_host_token(data_dir.path(), Duration::from_secs(3600)).unwrap();
        TestServer {
            addr,
            url: format!("http://{addr}"),
            shared,
            data_dir,
            host_token,
            stop,
            task: Some(task),
        }
    }

    /// The token of this test's host (the same subject every call).
    pub fn host_token(&self) -> String {
        self.host_token.clone()
    }

    /// A token for another host.
    pub fn new_host_token(&self) -> String {
        roulette_server::mint_host_token(self.data_dir.path(), Duration::from_secs(3600)).unwrap()
    }

    pub async fn host(&self) -> Connection {
        Connection::connect(&self.url, Endpoint::Host, Some(&self.host_token()), None)
            .await
            .unwrap()
    }

    pub async fn guest(&self) -> Connection {
        Connection::connect(&self.url, Endpoint::Participant, None, None)
            .await
            .unwrap()
    }

    /// Stops the server and waits until it has stopped.
    pub async fn stop(mut self) -> tempfile::TempDir {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.data_dir, dir)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// A plain HTTP/1.1 request; returns the status code and the body.
pub async fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

/// Waits (up to 10 s, for a test that would otherwise hang) for a message matching `pred`,
/// returning it; frames and other messages on the way are returned too.
pub async fn expect(
    conn: &mut Connection,
    what: &str,
    mut pred: impl FnMut(&Incoming) -> bool,
) -> Vec<Incoming> {
    let mut seen = Vec::new();
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match conn.next().await {
                Ok(Some(item)) => {
                    let done = pred(&item);
                    seen.push(item);
                    if done {
                        return;
                    }
                }
                other => {
                    panic!("waiting for {what}: connection ended with {other:?} after {seen:?}")
                }
            }
        }
    })
    .await;
    assert!(result.is_ok(), "timed out waiting for {what}; saw {seen:?}");
    seen
}

pub async fn expect_message(
    conn: &mut Connection,
    what: &str,
    pred: impl Fn(&ServerMessage) -> bool,
) -> ServerMessage {
    let seen = expect(conn, what, |i| matches!(i, Incoming::Message(m) if pred(m))).await;
    match seen.last() {
        Some(Incoming::Message(m)) => m.clone(),
        _ => unreachable!(),
    }
}

/// Pairs a host agent connection and a guest; both are in the building phase afterwards.
pub async fn paired(server: &TestServer) -> (Connection, Connection) {
    let mut host = server.host().await;
    let mut guest = server.guest().await;
    host.send(&ClientMessage::FindPartner {
        kind: roulette_core::RoomKind::Pairing,
        key: None,
    })
    .await
    .unwrap();
    guest
        .send(&ClientMessage::FindPartner {
            kind: roulette_core::RoomKind::Pairing,
            key: None,
        })
        .await
        .unwrap();
    expect_message(&mut host, "building", |m| {
        matches!(m, ServerMessage::Building { .. })
    })
    .await;
    expect_message(&mut guest, "building", |m| {
        matches!(m, ServerMessage::Building { .. })
    })
    .await;
    (host, guest)
}

/// Collects output bytes from `conn` until `total` bytes past `from` have arrived, checking
/// offsets follow on; snapshots are not expected.
pub async fn read_output(conn: &mut Connection, mut from: u64, total: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let end = from + total;
    tokio::time::timeout(Duration::from_secs(30), async {
        while from < end {
            match conn.next().await.unwrap() {
                Some(Incoming::Frame(Frame::Output { offset, data })) => {
                    assert_eq!(offset, from, "bytes lost or repeated");
                    from += data.len() as u64;
                    out.extend_from_slice(&data);
                }
                Some(_) => {}
                None => panic!("closed"),
            }
        }
    })
    .await
    .expect("output did not arrive");
    out
}

/// `conn` sends a chat message and reads until its echo arrives: everything it sent before has
/// been handled by its room. Returns what arrived on the way.
pub async fn self_fence(conn: &mut Connection, name: &str) -> Vec<Incoming> {
    conn.send(&ClientMessage::Chat {
        text: roulette_transport::Text::new(name).unwrap(),
    })
    .await
    .unwrap();
    expect(conn, name, |i| {
        matches!(i, Incoming::Message(ServerMessage::Chat { text, .. }) if text.as_str() == name)
    })
    .await
}

/// Reads until the server closes the connection (up to 10 s); the close code, 1006 for none.
pub async fn closed_with(conn: &mut Connection) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), conn.next()).await {
            Ok(Err(e)) => return e.close_code().map_or(0, |c| c.code()),
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => return 1006,
            Err(_) => panic!("the connection stayed open"),
        }
    }
}
