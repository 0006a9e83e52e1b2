//! The Claude Code integration: `roulette init` and `uninstall` on a real settings file under a
//! temporary `$HOME`, `roulette hook` as Claude Code runs it, and the background waiter that
//! finds a partner for a long task and opens one chat window (a tmux window here), or shows
//! nothing when the task ends unmatched.

mod common;
use common::{Server, Tmux, server_with};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

const SETTINGS: &str = r#"{
  "model": "opus",
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo pre"}]}],
    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
  },
  "permissions": {"allow": ["Bash(ls:*)"]},
  "env": {"A": "1"}
}
"#;

fn roulette(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env_remove("XDG_STATE_HOME")
        .output()
        .unwrap()
}

fn settings(home: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(home.join(".claude/settings.json")).unwrap())
        .unwrap()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn backups(home: &Path) -> Vec<String> {
    let mut b: Vec<String> = std::fs::read_dir(home.join(".claude"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("roulette-backup"))
        .collect();
    b.sort();
    b
}

#[test]
fn init_adds_two_hooks_keeps_everything_else_and_uninstall_takes_exactly_them_out() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    std::fs::write(home.join(".claude/settings.json"), SETTINGS).unwrap();
    let original: Value = serde_json::from_str(SETTINGS).unwrap();

    let out = roulette(home, &["init", "http://chat.example:7878"]);
    assert!(out.status.success(), "{out:?}");
    let after = settings(home);
    // Every other key, in its order; every other hook.
    assert_eq!(keys(&after), keys(&original));
    assert_eq!(after["model"], "opus");
    assert_eq!(after["permissions"], original["permissions"]);
    assert_eq!(
        after["hooks"]["PreToolUse"],
        original["hooks"]["PreToolUse"]
    );
    assert_eq!(after["hooks"]["Stop"][0], original["hooks"]["Stop"][0]);
    let command = |event: &str| {
        after["hooks"][event].as_array().unwrap().last().unwrap()["hooks"][0]["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        command("UserPromptSubmit"),
        format!("{BIN} hook UserPromptSubmit --server http://chat.example:7878")
    );
    assert_eq!(
        command("Stop"),
        format!("{BIN} hook Stop --server http://chat.example:7878")
    );
    // A timestamped backup of the original came first.
    let made = backups(home);
    assert_eq!(made.len(), 1);
    assert_eq!(
        std::fs::read_to_string(home.join(".claude").join(&made[0])).unwrap(),
        SETTINGS
    );

    // Idempotent: the same again changes nothing, not even a byte, and makes no backup.
    let bytes = std::fs::read(home.join(".claude/settings.json")).unwrap();
    let out = roulette(home, &["init", "http://chat.example:7878"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
    assert_eq!(
        std::fs::read(home.join(".claude/settings.json")).unwrap(),
        bytes
    );
    assert_eq!(backups(home).len(), 1);

    // Uninstall: exactly the original settings again, keys in their order.
    let out = roulette(home, &["uninstall"]);
    assert!(out.status.success(), "{out:?}");
    let back = settings(home);
    assert_eq!(back, original);
    assert_eq!(keys(&back), keys(&original));
    assert_eq!(keys(&back["hooks"]), keys(&original["hooks"]));
    let out = roulette(home, &["uninstall"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));
}

#[test]
fn init_on_a_file_that_is_not_json_changes_nothing_and_says_why() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    std::fs::create_dir_all(home.join(".claude")).unwrap();
    let broken = "{ \"model\": \"opus\", // a comment\n";
    std::fs::write(home.join(".claude/settings.json"), broken).unwrap();
    let out = roulette(home, &["init"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not valid JSON") && err.contains("nothing was changed"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".claude/settings.json")).unwrap(),
        broken
    );
    assert!(backups(home).is_empty());
}

#[test]
fn init_without_settings_creates_them_and_respects_home() {
    let home = tempfile::tempdir().unwrap();
    let out = roulette(home.path(), &["init"]);
    assert!(out.status.success(), "{out:?}");
    let s = settings(home.path());
    assert_eq!(keys(&s), vec!["hooks"]);
    assert!(
        s["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap()
            .ends_with(" hook UserPromptSubmit")
    );
    let out = roulette(home.path(), &["uninstall"]);
    assert!(out.status.success());
    assert_eq!(settings(home.path()), serde_json::json!({}));
}

/// Runs the hook with `input` on stdin; returns its output.
fn hook(home: &Path, event: &str, input: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(BIN)
        .args(["hook", event])
        .env("HOME", home)
        .env_remove("XDG_STATE_HOME")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn state(home: &Path) -> std::path::PathBuf {
    home.join(".local/state/roulette")
}

#[test]
fn the_hook_prints_nothing_exits_0_and_refuses_bad_session_ids() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let pwned = home.join("pwned");
    for input in [
        format!(
            r#"{{"session_id":"$(touch {})","transcript_path":"/tmp/t.jsonl"}}"#,
            pwned.display()
        ),
        r#"{"session_id":"../../escape","transcript_path":"/tmp/t.jsonl"}"#.to_string(),
        "not json at all".to_string(),
        String::new(),
    ] {
        let out = hook(home, "UserPromptSubmit", &input, &[]);
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    }
    assert!(!pwned.exists());
    assert!(
        !state(home).join("tasks").exists()
            || std::fs::read_dir(state(home).join("tasks"))
                .unwrap()
                .count()
                == 0
    );
    // Unknown events and flags: still silent, still 0.
    let out = hook(home, "Nonsense", "{}", &[]);
    assert_eq!(out.status.code(), Some(0));
    let out = Command::new(BIN)
        .args(["hook", "Stop", "--no-such-flag"])
        .env("HOME", home)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    // It does not wait for stdin to close: Claude Code is never held up.
    let mut child = Command::new(BIN)
        .args(["hook", "Stop"])
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _open_stdin = child.stdin.take();
    let guard = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < guard, "the hook waited on its input");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

fn server() -> Server {
    server_with(|_| {})
}

/// The queue length the server reports.
fn queue_length(server: &Server) -> i64 {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("roulette_queue_length "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let guard = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < guard, "{what} never happened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn waiter_env<'a>(server: &'a Server, terminal: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ROULETTE_SERVER", server.url.as_str()),
        ("ROULETTE_TERMINAL", terminal),
        ("ROULETTE_CHAT_AFTER", "0s"),
        ("ROULETTE_POLL", "100ms"),
    ]
}

fn task_input(session: &str, transcript: &Path) -> String {
    format!(
        r#"{{"session_id":"{session}","transcript_path":"{}","hook_event_name":"UserPromptSubmit","prompt":"refactor it all"}}"#,
        transcript.display()
    )
}

/// A server, a home with a transcript file, and a tmux "desktop" where windows open (with
/// the same HOME as the hook, as on a real desktop); `terminal` opens a window there.
struct Desk {
    server: Server,
    tmux: Tmux,
    home: tempfile::TempDir,
    transcript: std::path::PathBuf,
    terminal: String,
}

fn desk() -> Desk {
    let server = server();
    let tmux = Tmux::new();
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("transcript.jsonl");
    std::fs::write(&transcript, "{}\n").unwrap();
    tmux.start("desk", "sleep 600");
    let terminal = format!(
        "tmux -L {} new-window -t desk -e HOME={}",
        tmux.socket(),
        home.path().display()
    );
    Desk {
        server,
        tmux,
        home,
        transcript,
        terminal,
    }
}

#[test]
fn a_long_task_finds_a_partner_in_the_background_and_opens_one_window() {
    let Desk {
        server,
        tmux,
        home,
        transcript,
        terminal,
    } = desk();
    let env = waiter_env(&server, &terminal);
    let out = hook(
        home.path(),
        "UserPromptSubmit",
        &task_input("task-1", &transcript),
        &env,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    // The waiter looks for someone with no window.
    until("the background search", || queue_length(&server) == 1);
    assert_eq!(tmux.run(&["list-windows", "-t", "desk"]).lines().count(), 1);

    // Someone else opens the chat by hand: they are paired, and one window opens here, with
    // the conversation in it.
    tmux.start("stranger", &format!("{BIN} chat --server {}", server.url));
    until("a window opens", || {
        tmux.run(&["list-windows", "-t", "desk"]).lines().count() == 2
    });
    let stranger_screen = tmux.wait_for("stranger", "You are talking to ");
    tmux.wait_for("desk:1", "You are talking to ");
    // The window got its token in a file, never on its command line (where `ps` shows it).
    let pid = tmux.run(&["list-panes", "-t", "desk:1", "-F", "#{pane_pid}"]);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.trim())).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(cmdline.contains("--token-file"), "{cmdline}");
    assert!(
        !cmdline.contains("eyJ"),
        "a token on the command line: {cmdline}"
    );
    tmux.keys("desk:1", &["hi from the long task", "Enter"]);
    tmux.wait_for("stranger", "hi from the long task");
    tmux.keys("stranger", &["hello, waiting too?", "Enter"]);
    tmux.wait_for("desk:1", "hello, waiting too?");
    assert!(!stranger_screen.contains(" left."));

    // One window per machine: while it is open, nobody else is looked for.
    let out = hook(
        home.path(),
        "UserPromptSubmit",
        &task_input("task-2", &transcript),
        &env,
    );
    assert_eq!(out.status.code(), Some(0));
    tmux.keys("desk:1", &["/insights", "Enter"]);
    tmux.wait_for("desk:1", "0 waiting");
    assert_eq!(tmux.run(&["list-windows", "-t", "desk"]).lines().count(), 2);

    // Both tasks end: the waiter goes (no process is left behind).
    for task in ["task-1", "task-2"] {
        hook(home.path(), "Stop", &task_input(task, &transcript), &env);
    }
    wait_for_waiter_to_exit(home.path());
}

fn wait_for_waiter_to_exit(home: &Path) {
    let lock = state(home).join("waiter.lock");
    until("the waiter exits", || {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&lock)
            .is_ok_and(|f| f.try_lock().is_ok())
    });
}

#[test]
fn a_task_that_ends_before_anyone_is_found_shows_nothing() {
    let Desk {
        server,
        tmux,
        home,
        transcript,
        terminal,
    } = desk();
    let env = waiter_env(&server, &terminal);
    let input = task_input("task-9", &transcript);
    hook(home.path(), "UserPromptSubmit", &input, &env);
    until("the background search", || queue_length(&server) == 1);
    // The task ends: the search is called off and the waiter goes.
    let out = hook(home.path(), "Stop", &input, &env);
    assert_eq!(out.status.code(), Some(0));
    until("the search ends", || queue_length(&server) == 0);
    wait_for_waiter_to_exit(home.path());
    assert_eq!(tmux.run(&["list-windows", "-t", "desk"]).lines().count(), 1);
    assert!(!state(home.path()).join("tasks/task-9.json").exists());
}

#[test]
fn a_task_whose_transcript_stops_growing_is_not_live() {
    let server = server();
    let home = tempfile::tempdir().unwrap();
    let transcript = home.path().join("transcript.jsonl");
    std::fs::write(&transcript, "{}\n").unwrap();
    // Its last change was two hours ago.
    let old = std::time::SystemTime::now() - Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&transcript)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let mut env = waiter_env(&server, "false");
    env.push(("ROULETTE_LIVE_WINDOW", "60s"));
    hook(
        home.path(),
        "UserPromptSubmit",
        &task_input("still", &transcript),
        &env,
    );
    // The waiter finds a stale task, forgets it, and exits without searching.
    until("the stale task is forgotten", || {
        !state(home.path()).join("tasks/still.json").exists()
    });
    wait_for_waiter_to_exit(home.path());
    assert_eq!(queue_length(&server), 0);
}
