//! Over TLS, as deployed: a real Caddy (`tls internal`) in front of the relay, and the terminal
//! clients connecting to it with `https://`, trusting Caddy's root through `--ca-file` or
//! `SSL_CERT_FILE`. A certificate that is not trusted is refused, said so, and not retried.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

mod common;
use common::{Tmux, server_with};

/// One Caddy at a time: each picks its ports just before it binds them.
static ONE_CADDY: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Caddy in front of `upstream`, with its own CA, killed on drop.
struct Caddy {
    url: String,
    root: std::path::PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two distinct free ports (both held while chosen, so they differ).
fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn caddy(upstream: std::net::SocketAddr) -> Caddy {
    let dir = tempfile::tempdir().unwrap();
    let (http, https) = free_ports();
    let config = format!(
        "{{\n\tadmin off\n\tstorage file_system {storage}\n\tskip_install_trust\n\thttp_port {http}\n\thttps_port {https}\n}}\n\
         https://localhost:{https} {{\n\ttls internal\n\treverse_proxy {upstream}\n}}\n",
        storage = dir.path().join("storage").display(),
    );
    let file = dir.path().join("Caddyfile");
    std::fs::write(&file, config).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("caddy.log")).unwrap())
        .spawn()
        .expect("caddy runs (scripts/test installs Debian's caddy)");
    let root = dir.path().join("storage/pki/authorities/local/root.crt");
    // Caddy makes its CA and then listens; wait for both.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(root.exists() && std::net::TcpStream::connect(("127.0.0.1", https)).is_ok()) {
        assert!(
            Instant::now() < deadline,
            "caddy did not start:\n{}",
            std::fs::read_to_string(dir.path().join("caddy.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Caddy {
        url: format!("https://localhost:{https}"),
        root,
        child,
        _dir: dir,
    }
}

#[test]
fn a_session_through_caddy_with_tls() {
    let _one = ONE_CADDY.lock().unwrap_or_else(|e| e.into_inner());
    let server = server_with(|c| c.session.planning_duration = Duration::from_secs(1));
    let caddy = caddy(server.addr);
    let tmux = Tmux::new();
    tmux.start(
        "host",
        &format!(
            "env ROULETTE_TOKEN={} SHELL=/bin/sh {BIN} host --server {} --ca-file {} -- sh",
            server.host_token(),
            caddy.url,
            caddy.root.display()
        ),
    );
    tmux.wait_for("host", "waiting for a partner");
    tmux.start(
        "partner",
        &format!(
            "env SSL_CERT_FILE={} {BIN} join --server {}",
            caddy.root.display(),
            caddy.url
        ),
    );
    tmux.wait_for("partner", "building");
    tmux.wait_for("host", "agent running in");
    tmux.keys("host", &["echo through''-tls", "Enter"]);
    tmux.wait_for("partner", "through-tls");
}

#[test]
fn a_certificate_that_is_not_trusted_is_refused_and_said_so() {
    let _one = ONE_CADDY.lock().unwrap_or_else(|e| e.into_inner());
    let server = server_with(|_| {});
    let caddy = caddy(server.addr);
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(["join", "--server", &caddy.url])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not trusted"), "{err}");
    assert!(err.contains("--ca-file"), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("retrying"), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(20));
    // The host agent too: it stops before queueing, with the same words. (Its keyboard stays
    // open, as a person's would.)
    let mut child = Command::new(BIN)
        .args(["host", "--server", &caddy.url, "--", "sh"])
        .env("ROULETTE_TOKEN", server.host_token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _keyboard = child.stdin.take();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not trusted"), "{err}");
}
