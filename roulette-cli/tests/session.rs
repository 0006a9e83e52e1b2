//! Whole sessions: a real server on a loopback port, the real host agent running a real
//! program in a PTY, and a partner on a real WebSocket.

use bytes::Bytes;
use roulette_cli::host::{HostOptions, HostStatus, LocalInput, run_host};
use roulette_core::RoomKind;
use roulette_pty::WorkDir;
use roulette_server::{Server, ServerConfig};
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, ErrorCode, Frame, ServerMessage};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(30);

struct Relay {
    url: String,
    addr: SocketAddr,
    data: tempfile::TempDir,
    stop: CancellationToken,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn config() -> ServerConfig {
    let mut c = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    };
    c.session.planning_duration = Duration::ZERO;
    c.session.host_approves_remote_lines = false;
    // Viewers here read as fast as they can; a queue this deep never makes them skip ahead.
    c.limits.outbound_queue = 8192;
    c
}

async fn relay_at(mut config: ServerConfig, data: tempfile::TempDir) -> Relay {
    config.data_dir = data.path().to_path_buf();
    let server = Server::bind(config).await.unwrap();
    let addr = server.local_addr();
    let stop = server.shutdown_token();
    tokio::spawn(server.run());
    Relay {
        url: format!("http://{addr}"),
        addr,
        data,
        stop,
    }
}

async fn relay() -> Relay {
    relay_at(config(), tempfile::tempdir().unwrap()).await
}

struct Host {
    status: mpsc::UnboundedReceiver<HostStatus>,
    local: mpsc::Sender<LocalInput>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), roulette_cli::host::HostError>>,
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn start_host(server: &str, token: &str, command: &[&str], workdir: WorkDir) -> Host {
    let mut opts = HostOptions::new(server, token);
    opts.command = command.iter().map(Into::into).collect();
    opts.workdir = workdir;
    opts.backoff_base = Duration::from_millis(20);
    opts.backoff_max = Duration::from_millis(200);
    let (status_tx, status) = mpsc::unbounded_channel();
    let (local, local_rx) = mpsc::channel(64);
    let stop = CancellationToken::new();
    let task = tokio::spawn(run_host(opts, status_tx, local_rx, stop.clone()));
    Host {
        status,
        local,
        stop,
        task,
    }
}

impl Host {
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&HostStatus) -> bool) -> HostStatus {
        tokio::time::timeout(WAIT, async {
            loop {
                let s = self.status.recv().await.expect("host agent stopped");
                if pred(&s) {
                    return s;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("host never reported {what}"))
    }

    async fn keys(&self, keys: &'static [u8]) {
        self.local
            .send(LocalInput::Keys(Bytes::from_static(keys)))
            .await
            .unwrap();
    }

    async fn say(&self, m: ClientMessage) {
        self.local.send(LocalInput::Message(m)).await.unwrap();
    }
}

fn token(relay: &Relay) -> String {
    roulette_server::mint_host_token(relay.data.path(), Duration::from_secs(3600)).unwrap()
}

async fn next(conn: &mut Connection) -> Incoming {
    tokio::time::timeout(WAIT, conn.next())
        .await
        .expect("nothing arrived")
        .expect("connection failed")
        .expect("connection ended")
}

async fn until_message(
    conn: &mut Connection,
    what: &str,
    pred: impl Fn(&ServerMessage) -> bool,
) -> ServerMessage {
    tokio::time::timeout(WAIT, async {
        loop {
            if let Incoming::Message(m) = next(conn).await
                && pred(&m)
            {
                return m;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} never came"))
}

/// Reads terminal output until `needle` shows up; returns all of it.
async fn until_output(conn: &mut Connection, needle: &str) -> String {
    let mut text = String::new();
    tokio::time::timeout(WAIT, async {
        while !text.contains(needle) {
            if let Incoming::Frame(Frame::Output { data, .. } | Frame::Snapshot { data, .. }) =
                next(conn).await
            {
                text.push_str(&String::from_utf8_lossy(&data));
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{needle:?} never appeared in {text:?}"));
    text
}

async fn partner(relay: &Relay) -> Connection {
    let mut guest = Connection::connect(&relay.url, Endpoint::Participant, None, None)
        .await
        .unwrap();
    guest
        .send(&ClientMessage::FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        })
        .await
        .unwrap();
    until_message(&mut guest, "building", |m| {
        matches!(m, ServerMessage::Building { .. })
    })
    .await;
    guest
}

async fn file_len_reaches(path: &Path, len: u64) -> Vec<u8> {
    tokio::time::timeout(WAIT, async {
        loop {
            let got = std::fs::read(path).unwrap_or_default();
            if got.len() as u64 >= len {
                return got;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{path:?} never reached {len} bytes: {:?}",
            std::fs::read(path)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_pairing_with_a_shell() {
    let relay = relay().await;
    let mut host = start_host(&relay.url, &token(&relay), &["sh"], WorkDir::Temp);
    let mut guest = partner(&relay).await;
    let workdir = match host
        .wait_for("agent", |s| matches!(s, HostStatus::AgentStarted { .. }))
        .await
    {
        HostStatus::AgentStarted { workdir } => workdir,
        _ => unreachable!(),
    };
    // The host drives first: its typing runs in the shell and the partner sees it.
    host.keys(b"echo hel''lo\r").await;
    until_output(&mut guest, "hello").await;
    // The partner navigates: refused.
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"echo nav''igator\r"),
        })
        .await
        .unwrap();
    until_message(&mut guest, "not_driver", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            }
        )
    })
    .await;
    // Swap: the partner asks, the host accepts, and the partner's typing runs.
    guest.send(&ClientMessage::RequestSwap {}).await.unwrap();
    host.wait_for("swap request", |s| {
        matches!(s, HostStatus::Message(ServerMessage::SwapRequested { .. }))
    })
    .await;
    host.say(ClientMessage::AnswerSwap { accept: true }).await;
    until_message(&mut guest, "driver changed", |m| {
        matches!(m, ServerMessage::DriverChanged { .. })
    })
    .await;
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"echo from-the-par''tner\r"),
        })
        .await
        .unwrap();
    let seen = until_output(&mut guest, "from-the-partner").await;
    assert!(!seen.contains("navigator"), "navigator input ran: {seen}");
    // The partner leaves: the agent, its directory and its processes go.
    guest.send(&ClientMessage::Leave {}).await.unwrap();
    host.wait_for("the end", |s| matches!(s, HostStatus::Ended(_)))
        .await;
    assert!(!workdir.exists(), "{workdir:?} survived the session");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_drivers_bytes_reach_the_pty() {
    let relay = relay().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("input.log");
    // The agent records every byte its terminal delivers, untouched.
    let mut host = start_host(
        &relay.url,
        &token(&relay),
        &[
            "sh",
            "-c",
            "stty raw -echo; echo ready; exec cat > input.log",
        ],
        WorkDir::Path(dir.path().to_path_buf()),
    );
    let mut guest = partner(&relay).await;
    until_output(&mut guest, "ready").await;
    for attempt in [&b"rm -rf ~\r"[..], b"\x1b[Z", b"x"] {
        guest
            .send_frame(&Frame::Input {
                offset: 0,
                data: Bytes::copy_from_slice(attempt),
            })
            .await
            .unwrap();
        until_message(&mut guest, "not_driver", |m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: ErrorCode::NotDriver,
                    ..
                }
            )
        })
        .await;
    }
    guest
        .send(&ClientMessage::Resize { cols: 20, rows: 5 })
        .await
        .unwrap();
    until_message(&mut guest, "not_driver", |m| {
        matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::NotDriver,
                ..
            }
        )
    })
    .await;
    // The host types a marker; when it is in the log, everything before it has been delivered.
    host.keys(b"H").await;
    assert_eq!(
        file_len_reaches(&log, 1).await,
        b"H",
        "navigator bytes reached the PTY"
    );
    guest.send(&ClientMessage::RequestSwap {}).await.unwrap();
    host.wait_for("swap request", |s| {
        matches!(s, HostStatus::Message(ServerMessage::SwapRequested { .. }))
    })
    .await;
    host.say(ClientMessage::AnswerSwap { accept: true }).await;
    until_message(&mut guest, "driver changed", |m| {
        matches!(m, ServerMessage::DriverChanged { .. })
    })
    .await;
    // The new driver types, back-tab included: the back-tab is removed on the way.
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"ab\x1b[Zc"),
        })
        .await
        .unwrap();
    host.keys(b"host-no-longer-drives").await;
    assert_eq!(file_len_reaches(&log, 4).await, b"Habc");
    guest
        .send_frame(&Frame::Input {
            offset: 0,
            data: Bytes::from_static(b"!"),
        })
        .await
        .unwrap();
    assert_eq!(
        file_len_reaches(&log, 5).await,
        b"Habc!",
        "the former driver's bytes got in"
    );
}

/// A TCP proxy whose live connections the test can cut.
struct Proxy {
    url: String,
    cut: tokio::sync::watch::Sender<u64>,
}

async fn proxy_to(target: SocketAddr) -> Proxy {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (cut, cuts) = tokio::sync::watch::channel(0u64);
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let mut cuts = cuts.clone();
            cuts.borrow_and_update();
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else {
                    return;
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                    _ = cuts.changed() => {}
                }
            });
        }
    });
    Proxy { url, cut }
}

impl Proxy {
    fn cut(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

/// Reads numbered lines (from `seq`) until `last`, checking each arrives exactly once and in
/// order; cuts the proxy once, when `cut_after` lines have arrived.
async fn numbered_lines(conn: &mut Connection, last: u64, mut on_progress: impl FnMut(u64)) -> u64 {
    let mut pending = String::new();
    let mut expected = 1u64;
    let mut offset = None::<u64>;
    tokio::time::timeout(Duration::from_secs(120), async {
        while expected <= last {
            let Incoming::Frame(frame) = next(conn).await else {
                continue;
            };
            let Frame::Output { offset: at, data } = frame else {
                panic!("a viewer that keeps up never needs a snapshot: {frame:?}");
            };
            if let Some(o) = offset {
                assert_eq!(at, o, "a byte was lost or repeated");
            }
            offset = Some(at + data.len() as u64);
            pending.push_str(&String::from_utf8_lossy(&data));
            while let Some(nl) = pending.find('\n') {
                let line: String = pending.drain(..=nl).collect();
                let line = line.trim();
                if let Ok(n) = line.parse::<u64>() {
                    assert_eq!(n, expected, "line {n} came when {expected} was due");
                    expected += 1;
                    on_progress(n);
                }
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("stuck at line {expected}"));
    offset.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_link_cut_mid_output_loses_and_repeats_nothing() {
    let relay = relay().await;
    let proxy = proxy_to(relay.addr).await;
    let mut host = start_host(
        &proxy.url,
        &token(&relay),
        &["sh", "-c", "read go; seq 1 100000; read done"],
        WorkDir::Temp,
    );
    let mut guest = partner(&relay).await;
    host.wait_for("agent", |s| matches!(s, HostStatus::AgentStarted { .. }))
        .await;
    host.keys(b"\r").await;
    let mut cuts = 0;
    numbered_lines(&mut guest, 100_000, |n| {
        if n % 25_000 == 0 {
            proxy.cut();
            cuts += 1;
        }
    })
    .await;
    assert!(cuts >= 3);
    host.wait_for("a reconnect", |s| {
        matches!(s, HostStatus::Reconnecting { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_link_cut_mid_output_resumes_where_it_was() {
    let relay = relay().await;
    let proxy = proxy_to(relay.addr).await;
    let mut host = start_host(
        &relay.url,
        &token(&relay),
        &["sh", "-c", "read go; seq 1 100000; read done"],
        WorkDir::Temp,
    );
    let mut guest = Connection::connect(&proxy.url, Endpoint::Participant, None, None)
        .await
        .unwrap();
    let token = guest.identity().1.unwrap();
    guest
        .send(&ClientMessage::FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        })
        .await
        .unwrap();
    until_message(&mut guest, "building", |m| {
        matches!(m, ServerMessage::Building { .. })
    })
    .await;
    host.wait_for("agent", |s| matches!(s, HostStatus::AgentStarted { .. }))
        .await;
    host.keys(b"\r").await;
    // Read until the cut, remembering exactly where the stream stood.
    let mut pending = String::new();
    let mut expected = 1u64;
    let mut offset = None::<u64>;
    let mut cut_done = false;
    let mut conn = guest;
    while expected <= 100_000 {
        let item = tokio::time::timeout(WAIT, conn.next())
            .await
            .expect("stalled");
        let frame = match item {
            Ok(Some(Incoming::Frame(f))) => f,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => {
                // The link is gone: reconnect as the same guest, resuming after the last byte.
                conn = Connection::connect(&relay.url, Endpoint::Participant, Some(&token), offset)
                    .await
                    .unwrap();
                continue;
            }
        };
        let Frame::Output { offset: at, data } = frame else {
            panic!("unexpected {frame:?}")
        };
        if let Some(o) = offset {
            assert_eq!(at, o, "a byte was lost or repeated");
        }
        offset = Some(at + data.len() as u64);
        pending.push_str(&String::from_utf8_lossy(&data));
        while let Some(nl) = pending.find('\n') {
            let line: String = pending.drain(..=nl).collect();
            if let Ok(n) = line.trim().parse::<u64>() {
                assert_eq!(n, expected);
                expected += 1;
                if n == 30_000 && !cut_done {
                    proxy.cut();
                    cut_done = true;
                }
            }
        }
    }
    assert!(cut_done);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_server_restart_the_host_comes_back_by_itself() {
    let data = tempfile::tempdir().unwrap();
    let relay = relay_at(config(), data).await;
    let addr = relay.addr;
    let token = token(&relay);
    let mut host = start_host(&relay.url, &token, &["sh"], WorkDir::Temp);
    host.wait_for("waiting", |s| matches!(s, HostStatus::Waiting { .. }))
        .await;
    // Stop the server, then start a new one on the same port and data directory.
    relay.stop.cancel();
    let data = std::mem::replace(&mut { relay }.data, tempfile::tempdir().unwrap());
    host.wait_for("reconnecting", |s| {
        matches!(s, HostStatus::Reconnecting { .. })
    })
    .await;
    let mut c = config();
    c.listen = addr;
    let relay = loop {
        // The old socket may take a moment to be released.
        let mut cfg = c.clone();
        cfg.data_dir = data.path().to_path_buf();
        match Server::bind(cfg).await {
            Ok(server) => {
                let stop = server.shutdown_token();
                tokio::spawn(server.run());
                break Relay {
                    url: format!("http://{addr}"),
                    addr,
                    data,
                    stop,
                };
            }
            Err(_) => tokio::task::yield_now().await,
        }
    };
    host.wait_for("waiting again", |s| matches!(s, HostStatus::Waiting { .. }))
        .await;
    // Its token is still good: a partner can pair with it.
    let mut guest = partner(&relay).await;
    host.keys(b"echo back''again\r").await;
    until_output(&mut guest, "backagain").await;
    assert!(!host.task.is_finished());
}
