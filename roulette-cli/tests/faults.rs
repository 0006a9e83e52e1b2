//! The relay killed under 200 connected clients and started again: every client comes back by
//! itself, their reconnects are spread out by jitter, and the new server's memory stays bounded.

use roulette_client::{ConnectOptions, Event, Kind, Local, Participant};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_roulette");
const CLIENTS: usize = 200;

/// A child process killed when dropped, so that a failing test leaves no relay behind.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl std::ops::Deref for Killed {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Killed {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

fn serve(port: u16, data: &std::path::Path) -> Killed {
    Killed(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn connect_when_up(url: &str) -> Participant {
    for _ in 0..200 {
        if let Ok(p) = Participant::connect(ConnectOptions {
            server: url.to_string(),
            token: None,
            kind: Kind::Participant,
        })
        .await
        {
            return p;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_come_back_after_the_server_is_killed() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let data = tempfile::tempdir().unwrap();
    let mut server = serve(port, data.path());
    let first = connect_when_up(&url).await;
    let mut clients = vec![Arc::new(first)];
    for _ in 1..CLIENTS {
        clients.push(Arc::new(
            Participant::connect(ConnectOptions {
                server: url.clone(),
                token: None,
                kind: Kind::Participant,
            })
            .await
            .unwrap(),
        ));
    }
    // Each client's first event is its welcome.
    for c in &clients {
        assert_eq!(c.next_event().await.unwrap().kind(), "welcome");
    }
    let before = rss_kib(server.id());

    // Killed: no goodbye, every socket just ends.
    server.kill().unwrap();
    server.wait().unwrap();
    // Each client reports when it will try again.
    let mut delays = Vec::new();
    for c in &clients {
        loop {
            match tokio::time::timeout(Duration::from_secs(20), c.next_event()).await {
                Ok(Some(Event::Local(Local::Reconnecting { in_ms }))) => {
                    delays.push(in_ms);
                    break;
                }
                Ok(Some(Event::Local(Local::Closed { reason, .. }))) => {
                    panic!("a client gave up: {reason}")
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!("a client never noticed"),
            }
        }
    }
    let mut server = serve(port, data.path());
    // Every one comes back by itself.
    let waits: Vec<_> = clients
        .iter()
        .cloned()
        .map(|c| {
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_secs(60), async {
                    loop {
                        match c.next_event().await {
                            Some(Event::Local(Local::Reconnected {})) => return true,
                            Some(Event::Local(Local::Closed { .. })) | None => return false,
                            Some(_) => {}
                        }
                    }
                })
                .await
                .unwrap_or(false)
            })
        })
        .collect();
    let mut back = 0;
    for w in waits {
        back += usize::from(w.await.unwrap());
    }
    assert_eq!(back, CLIENTS, "some clients gave up or never came back");
    // Spread out by jitter: the first delays are not one instant.
    delays.sort_unstable();
    delays.dedup();
    assert!(
        delays.len() > CLIENTS / 4,
        "only {} distinct delays",
        delays.len()
    );
    let after = rss_kib(server.id());
    eprintln!("server RSS: {before} KiB before, {after} KiB after {CLIENTS} reconnects");
    assert!(after < 64 * 1024, "the new server uses {after} KiB");
    server.kill().unwrap();
    let _ = server.wait();
}

/// The partner's terminal client, stopped with SIGSTOP while the host's agent prints 50 MB: the
/// host's other window gets every byte, in order, and the relay's memory grows by less than
/// 20 MB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_viewer_holds_back_nobody_and_costs_little_memory() {
    use roulette_cli::host::{HostOptions, HostStatus, LocalInput, run_host};
    use roulette_transport::Frame;
    use roulette_transport::connect::{Connection, Endpoint, Incoming};

    const TOTAL: u64 = 50_000_000;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let data = tempfile::tempdir().unwrap();
    // Generous enough that the debug-built viewer in this test never skips ahead: what is
    // measured is whether it gets every byte while the other one is stopped.
    let mut server = Killed(
        Command::new(BIN)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--viewer-max-backlog",
                "60s",
                "--planning-time",
                "0s",
                "--data-dir",
            ])
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    drop(connect_when_up(&url).await);
    let token = String::from_utf8(
        Command::new(BIN)
            .args(["token", "--days", "1", "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    // The host agent, in this process.
    let mut opts = HostOptions::new(url.clone(), token.clone());
    // 50 MB at about 20 MB/s: faster than any screen, and slow enough that this test's own
    // (debug-built, shared-core) viewer keeps up; the stopped viewer is what is under test.
    let script = data.path().join("writer.py");
    std::fs::write(
        &script,
        format!(
            "import sys, time\nchunk = b'x' * 65536\nleft = {TOTAL}\nwhile left > 0:\n    n = min(left, 65536)\n    sys.stdout.buffer.write(chunk[:n])\n    sys.stdout.flush()\n    left -= n\n    time.sleep(0.003)\n"
        ),
    )
    .unwrap();
    opts.command = vec![
        "sh".into(),
        "-c".into(),
        format!("read go; python3 {}; read done", script.display()).into(),
    ];
    opts.once = true;
    let (status_tx, mut status) = tokio::sync::mpsc::unbounded_channel();
    let (keys, local) = tokio::sync::mpsc::channel(8);
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(run_host(opts, status_tx, local, stop.clone()));
    // The partner: `roulette join` in a terminal of its own (tmux), a separate process.
    let tmux = common_tmux();
    tmux.start("partner", &format!("{BIN} join --server {url}"));
    loop {
        match tokio::time::timeout(Duration::from_secs(20), status.recv()).await {
            Ok(Some(HostStatus::AgentStarted { .. })) => break,
            Ok(Some(_)) => {}
            _ => panic!("the agent never started"),
        }
    }
    // The host's own second window: the viewer that must get every byte.
    let mut viewer = Connection::connect(&url, Endpoint::Participant, Some(&token), None)
        .await
        .unwrap();
    let pane_pid: i32 = tmux
        .run(&["list-panes", "-t", "partner", "-F", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pane_pid),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .unwrap();
    let before = rss_kib(server.id());
    keys.send(LocalInput::Keys(bytes::Bytes::from_static(b"\r")))
        .await
        .unwrap();
    let mut xs = 0u64;
    let mut next = None::<u64>;
    tokio::time::timeout(Duration::from_secs(300), async {
        while xs < TOTAL {
            match viewer.next().await.unwrap().unwrap() {
                Incoming::Frame(Frame::Output { offset, data }) => {
                    if let Some(n) = next {
                        assert_eq!(offset, n, "a byte was lost or repeated");
                    }
                    next = Some(offset + data.len() as u64);
                    xs += data.iter().filter(|b| **b == b'x').count() as u64;
                }
                Incoming::Frame(Frame::Snapshot { .. }) if next.is_some() => {
                    panic!("the viewer that keeps up was skipped ahead")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the viewer got all 50 MB");
    assert_eq!(xs, TOTAL);
    let after = rss_kib(server.id());
    eprintln!("relay RSS: {before} KiB before 50 MB, {after} KiB after, with a stopped viewer");
    assert!(
        after < before + 20 * 1024,
        "the relay grew by {} KiB",
        after - before
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pane_pid),
        nix::sys::signal::Signal::SIGCONT,
    )
    .unwrap();
    stop.cancel();
    server.kill().unwrap();
    let _ = server.wait();
}

mod common;
fn common_tmux() -> common::Tmux {
    common::Tmux::new()
}
