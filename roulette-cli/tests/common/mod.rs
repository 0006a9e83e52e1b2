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

    /// Polls the pane for up to `within` until `needle` shows; says whether it did.
    pub fn shows_within(&self, name: &str, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.screen(name).contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
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

impl Server {
    /// A host token minted against this server's data directory.
    pub fn host_token(&self) -> String {
        roulette_server::mint_host_token(self._data.path(), Duration::from_secs(3600)).unwrap()
    }
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

/// The real Claude Code CLI: `$ROULETTE_CLAUDE` (scripts/test installs it and sets it).
pub fn claude() -> std::path::PathBuf {
    let path = std::env::var_os("ROULETTE_CLAUDE").map(std::path::PathBuf::from);
    match path {
        Some(p) if p.exists() => p,
        _ => panic!(
            "this test runs the real Claude Code CLI: set ROULETTE_CLAUDE to its `claude` (scripts/test installs @anthropic-ai/claude-code and sets it)"
        ),
    }
}

/// The API key the tests give Claude Code; its last 20 characters are approved in the home.
pub const CLAUDE_API_KEY: &str = "sk-ant-test-0123456789abcdefghijklmnopqrstuv";

/// The stand-in for the Anthropic Messages API (`web/tests/fake-anthropic.mjs` under Node),
/// asking Claude to run `command` with Bash; stopped on drop.
pub struct FakeAnthropic {
    pub url: String,
    child: std::process::Child,
}

impl FakeAnthropic {
    pub fn start(command: &str) -> FakeAnthropic {
        use std::io::BufRead;
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../web/tests/fake-anthropic.mjs"
        );
        let mut child = Command::new("node")
            .args([script, "--port", "0"])
            .env("FAKE_BASH_COMMAND", command)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("node runs the stand-in for the Anthropic API (scripts/test installs it)");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the stand-in said {line:?}"))
            .to_string();
        FakeAnthropic { url, child }
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A home directory for Claude Code: onboarding done, the test key approved, the host's own
/// `~/.claude/settings.json`, and `trusted` (with the folders in it) trusted already.
pub fn claude_home(settings: &str, trusted: Option<&std::path::Path>) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let approved = &CLAUDE_API_KEY[CLAUDE_API_KEY.len() - 20..];
    let mut config = serde_json::json!({
        "hasCompletedOnboarding": true,
        "customApiKeyResponses": { "approved": [approved], "rejected": [] },
    });
    if let Some(dir) = trusted {
        config["projects"] = serde_json::json!({
            dir.to_string_lossy(): { "hasTrustDialogAccepted": true }
        });
    }
    std::fs::write(home.path().join(".claude.json"), config.to_string()).unwrap();
    std::fs::create_dir(home.path().join(".claude")).unwrap();
    std::fs::write(home.path().join(".claude/settings.json"), settings).unwrap();
    home
}
