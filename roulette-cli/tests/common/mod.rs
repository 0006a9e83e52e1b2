//! Test helpers shared by the CLI's test files.
#![allow(dead_code)]

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own, killed when dropped: panes to run the terminal frontends in, typed
/// into with send-keys and read with capture-pane.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn new() -> Tmux {
        assert!(
            Command::new("tmux").arg("-V").output().is_ok(),
            "tmux is needed for this test (scripts/test installs it)"
        );
        Tmux {
            // One tmux server per test: tests run in parallel in one process.
            socket: format!("roulette-test-{}-{}", std::process::id(), {
                static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            }),
        }
    }

    /// The tmux server's socket name (for `tmux -L`).
    pub fn socket(&self) -> &str {
        &self.socket
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn start(&self, name: &str, command: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            "160",
            "-y",
            "40",
            command,
        ]);
    }

    pub fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self, name: &str) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-200", "-t", name])
    }

    /// Polls the pane until `needle` shows, for up to 20 s.
    pub fn wait_for(&self, name: &str, needle: &str) -> String {
        self.wait_count(name, needle, 1)
    }

    /// Polls the pane until `needle` shows `n` times, for up to 20 s.
    pub fn wait_count(&self, name: &str, needle: &str, n: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen(name);
            if screen.matches(needle).count() >= n {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{needle:?} never showed in {name}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// A real server on a loopback port, on a runtime of its own, for the length of a test.
pub struct Server {
    pub url: String,
    pub addr: std::net::SocketAddr,
    _data: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

/// A server with the default configuration, changed by `configure`.
pub fn server_with(configure: impl FnOnce(&mut roulette_server::ServerConfig)) -> Server {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut config = roulette_server::ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.path().to_path_buf(),
        ..roulette_server::ServerConfig::default()
    };
    configure(&mut config);
    let server = runtime
        .block_on(roulette_server::Server::bind(config))
        .unwrap();
    let addr = server.local_addr();
    runtime.spawn(server.run());
    Server {
        url: format!("http://{addr}"),
        addr,
        _data: data,
        _runtime: runtime,
    }
}
