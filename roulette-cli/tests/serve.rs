//! `roulette serve` as a program: it runs with no flags and no configuration, logs what
//! happens without tokens or chat, and stops cleanly on SIGTERM.

use roulette_core::RoomKind;
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, ServerMessage, Text};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

async fn until(conn: &mut Connection, pred: impl Fn(&ServerMessage) -> bool) {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(Incoming::Message(m)) = conn.next().await.unwrap()
                && pred(&m)
            {
                return;
            }
        }
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_needs_no_flags_and_logs_no_secrets() {
    let home = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the logs as they come, or a full pipe would block the server.
    let mut stderr = server.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut logs = String::new();
        let _ = stderr.read_to_string(&mut logs);
        logs
    });
    let url = "http://127.0.0.1:7878";
    // Wait for it to listen.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut host = loop {
        let data_dir = home.path().join(".local/share/roulette");
        if data_dir.join("roulette.sqlite3").exists() {
            let token =
                roulette_server::mint_host_token(&data_dir, Duration::from_secs(600)).unwrap();
            if let Ok(c) = Connection::connect(url, Endpoint::Host, Some(&token), None).await {
                break (c, token);
            }
        }
        assert!(Instant::now() < deadline, "roulette serve never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut guest = Connection::connect(url, Endpoint::Participant, None, None)
        .await
        .unwrap();
    let guest_token = guest.identity().1.unwrap();
    host.0
        .send(&ClientMessage::FindPartner {
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
    until(&mut guest, |m| matches!(m, ServerMessage::Planning { .. })).await;
    guest
        .send(&ClientMessage::Chat {
            text: Text::new("secret-chat-words").unwrap(),
        })
        .await
        .unwrap();
    until(&mut host.0, |m| matches!(m, ServerMessage::Chat { .. })).await;
    guest.send(&ClientMessage::Leave {}).await.unwrap();
    until(&mut host.0, |m| matches!(m, ServerMessage::Ended { .. })).await;
    // A bad token, to make sure refusals do not echo it; and a ticket request, whose
    // Authorization header carries the guest's token.
    let _ = Connection::connect(url, Endpoint::Host, Some("forged-token-value"), None).await;
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect("127.0.0.1:7878")
            .await
            .unwrap();
        let request = format!(
            "POST /api/ticket HTTP/1.1\r\nHost: 127.0.0.1:7878\r\nAuthorization: Bearer {guest_token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        s.write_all(request.as_bytes()).await.unwrap();
        let mut reply = Vec::new();
        s.read_to_end(&mut reply).await.unwrap();
        assert!(String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 200"));
    }

    // SIGTERM: a clean stop.
    let pid = nix::unistd::Pid::from_raw(server.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let (status, logs) = tokio::task::spawn_blocking(move || {
        let status = server.wait().unwrap();
        (status, log_reader.join().unwrap())
    })
    .await
    .unwrap();
    assert!(status.success(), "{status:?}\n{logs}");
    for expected in [
        "listening",
        "connection open",
        "matched",
        "room opened",
        "room closed",
        "shutting down",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }
    for secret in [
        host.1.as_str(),
        guest_token.as_str(),
        "forged-token-value",
        "secret-chat-words",
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_stay_cheap() {
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let warm = loop {
        if let Ok(c) = Connection::connect(&url, Endpoint::Participant, None, None).await {
            break c;
        }
        assert!(Instant::now() < deadline, "roulette serve never came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let before = rss_kib(server.id());
    let n = 500u64;
    let mut conns = Vec::new();
    for _ in 0..n {
        conns.push(
            Connection::connect(&url, Endpoint::Participant, None, None)
                .await
                .unwrap(),
        );
    }
    let after = rss_kib(server.id());
    let per_connection = after.saturating_sub(before) / n;
    let _ = server.kill();
    let _ = server.wait();
    drop((warm, conns));
    assert!(
        per_connection < 32,
        "{per_connection} KiB of server memory per idle connection ({before} KiB -> {after} KiB)"
    );
}

#[test]
fn host_refuses_an_agent_that_would_skip_its_permission_checks() {
    let out = Command::new(BIN)
        .args([
            "host",
            "--server",
            "http://127.0.0.1:1",
            "--",
            "claude",
            "--dangerously-skip-permissions",
        ])
        .env("ROULETTE_TOKEN", "not-used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "refusing to give a stranger an agent started with --dangerously-skip-permissions"
        ),
        "{err}"
    );
    assert!(err.contains("--allow-unsafe-agent-flags"), "{err}");
}
